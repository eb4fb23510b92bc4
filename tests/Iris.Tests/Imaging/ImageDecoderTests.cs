using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Imaging;

public class ImageDecoderTests
{
    private readonly ImageDecoder _decoder = new(ImageLimits.Default);

    [Theory]
    [InlineData(".jpg[Q=95]", ImageFormat.Jpeg)]
    [InlineData(".png", ImageFormat.Png)]
    [InlineData(".webp[lossless]", ImageFormat.WebP)]
    [InlineData(".gif", ImageFormat.Gif)]
    [InlineData(".tif", ImageFormat.Tiff)]
    public void Decodes_each_supported_format_to_rgb_of_the_same_size(string suffix, ImageFormat format)
    {
        using var source = TestImages.Pattern(64, 48);
        var decoded = _decoder.Decode(TestImages.Encode(source, suffix));
        Assert.Equal(format, decoded.Format);
        Assert.Equal((64, 48), (decoded.Width, decoded.Height));
        Assert.Equal(64 * 48 * 3, decoded.Rgb.Length);
        // The red channel ramps left to right in the pattern; lossy formats only blur it a little.
        var left = decoded.Rgb[(24 * 64 + 2) * 3];
        var right = decoded.Rgb[(24 * 64 + 61) * 3];
        Assert.InRange(right - left, 200, 255);
    }

    [Fact]
    public void Decodes_uncompressed_bmp_without_libvips_support_for_it()
    {
        var bmp = TestImages.Bmp24(5, 3, (x, y) => ((byte)(x * 50), (byte)(y * 100), 7));
        var decoded = _decoder.Decode(bmp);
        Assert.Equal(ImageFormat.Bmp, decoded.Format);
        Assert.Equal((5, 3), (decoded.Width, decoded.Height));
        var at = (2 * 5 + 4) * 3; // x=4, y=2: rows are stored bottom-up, returned top-down
        Assert.Equal(new byte[] { 200, 200, 7 }, decoded.Rgb[at..(at + 3)]);
    }

    [Fact]
    public void Takes_the_first_frame_of_an_animated_gif()
    {
        using var first = TestImages.Pattern(32, 32);
        using var second = first.Invert();
        using var strip = first.Join(second, Enums.Direction.Vertical);
        using var animated = strip.Mutate(m => m.Set(GValue.GIntType, "page-height", 32));
        var decoded = _decoder.Decode(animated.GifsaveBuffer());
        Assert.Equal((32, 32), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Applies_the_exif_orientation_of_a_real_photo_so_it_is_upright()
    {
        var bytes = File.ReadAllBytes(TestPaths.RealImage("ocr-exif-orientation.jpg"));
        using var stored = Image.NewFromBuffer(bytes);
        Assert.Equal(3, (int)stored.Get("orientation")); // stored upside down
        var decoded = _decoder.Decode(bytes);
        Assert.Equal(3, decoded.Orientation);
        using var upright = stored.Rot180();
        Assert.Equal(upright.WriteToMemory<byte>(), decoded.Rgb);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)]
    [InlineData(5)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Every_exif_orientation_puts_the_marked_corner_back_top_left(int orientation)
    {
        // A black image with a white top-left block, stored the way a camera would for this orientation.
        using var upright = (Image.Black(40, 20) + 0).Cast(Enums.BandFormat.Uchar);
        using var marked = upright.Mutate(m => m.DrawRect([255.0], 0, 0, 8, 8, fill: true));
        using var stored = StoreAs(marked, orientation);
        using var tagged = stored.Mutate(m => m.Set(GValue.GIntType, "orientation", orientation));
        var decoded = _decoder.Decode(tagged.JpegsaveBuffer(q: 95));
        Assert.Equal((40, 20), (decoded.Width, decoded.Height));
        Assert.True(decoded.Rgb[(2 * 40 + 2) * 3] > 200, "top-left corner should be white");
        Assert.True(decoded.Rgb[(17 * 40 + 37) * 3] < 50, "bottom-right corner should be black");
    }

    // The inverse of what a viewer does for each EXIF orientation.
    private static Image StoreAs(Image upright, int orientation) => orientation switch
    {
        1 => upright.Copy(),
        2 => upright.FlipHor(),
        3 => upright.Rot180(),
        4 => upright.FlipVer(),
        5 => upright.Rot270().FlipVer(),
        6 => upright.Rot270(),
        7 => upright.Rot90().FlipVer(),
        8 => upright.Rot90(),
        _ => throw new ArgumentOutOfRangeException(nameof(orientation)),
    };

    [Fact]
    public void Rejects_a_decompression_bomb_from_its_header_in_milliseconds()
    {
        var bomb = TestImages.PngWithDeclaredSize(60_000, 60_000);
        Assert.True(bomb.Length < 1000);
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<ImageDimensionsTooLargeException>(() => _decoder.Decode(bomb));
        Assert.True(clock.ElapsedMilliseconds < 1000, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Contains("60000×60000", error.Message);
    }

    [Fact]
    public void Rejects_more_bytes_than_the_limit_before_looking_at_them()
    {
        var decoder = new ImageDecoder(ImageLimits.Default with { MaxBytes = 100 });
        Assert.Throws<ImageTooLargeException>(() => decoder.Decode(new byte[101]));
    }

    [Fact]
    public void Reports_a_truncated_jpeg_as_corrupt()
    {
        var jpeg = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        var error = Assert.Throws<CorruptImageException>(() => _decoder.Decode(jpeg[..(jpeg.Length / 2)]));
        Assert.Contains("JPEG", error.Message);
    }

    [Fact]
    public void Reports_a_png_with_a_broken_header_as_corrupt()
    {
        var png = TestImages.Encode(TestImages.Pattern(), ".png");
        png[20] ^= 0xFF; // inside IHDR, so its CRC no longer matches
        Assert.Throws<CorruptImageException>(() => _decoder.Decode(png));
    }

    [Theory]
    [InlineData("")]
    [InlineData("just some text")]
    public void Rejects_empty_or_non_image_data(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
            Assert.Throws<EmptyImageException>(() => _decoder.Decode(bytes));
        else
            Assert.Throws<UnsupportedImageFormatException>(() => _decoder.Decode(bytes));
    }

    [Fact]
    public void Flattens_transparency_onto_white()
    {
        using var rgb = (Image.Black(4, 4, bands: 3) + 0).Cast(Enums.BandFormat.Uchar);
        using var alpha = (Image.Black(4, 4) + 0).Cast(Enums.BandFormat.Uchar);
        using var transparent = rgb.Bandjoin(alpha).Copy(interpretation: Enums.Interpretation.Srgb);
        var decoded = _decoder.Decode(transparent.PngsaveBuffer());
        Assert.All(decoded.Rgb, v => Assert.Equal(255, v));
    }

    [Fact]
    public void Converts_grayscale_and_16_bit_images_to_8_bit_rgb()
    {
        using var gray16 = (Image.Black(8, 8) + 30000).Cast(Enums.BandFormat.Ushort).Copy(interpretation: Enums.Interpretation.Grey16);
        var decoded = _decoder.Decode(gray16.PngsaveBuffer());
        Assert.Equal(8 * 8 * 3, decoded.Rgb.Length);
        Assert.InRange(decoded.Rgb[0], 110, 125); // 30000/65535 of full scale
    }
}
