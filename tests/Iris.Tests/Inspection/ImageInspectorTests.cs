using Iris.Core.Imaging;
using Iris.Core.Inspection;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Inspection;

public class ImageInspectorTests
{
    private readonly ImageDecoder _decoder = new(ImageLimits.Default);
    private readonly ImageInspector _inspector = new(ImageLimits.Default, new InspectionSettings(5, 100));

    private ImageInfo Inspect(byte[] bytes, bool includeGps = false) =>
        _inspector.Inspect(_inspector.ReadHeader(bytes), _decoder.Decode(bytes), new InspectionParameters(includeGps));

    private static byte[] JpegWithExif()
    {
        using var pattern = TestImages.Pattern(120, 80);
        using var image = pattern.Mutate(m =>
        {
            m.Set(GValue.GStrType, "exif-ifd0-Make", "Fujifilm");
            m.Set(GValue.GStrType, "exif-ifd0-Model", "X-T30");
            m.Set(GValue.GStrType, "exif-ifd2-LensModel", "XF35mmF2 R WR");
            m.Set(GValue.GStrType, "exif-ifd2-DateTimeOriginal", "2024:06:01 18:45:12");
            m.Set(GValue.GStrType, "exif-ifd3-GPSLatitudeRef", "S");
            m.Set(GValue.GStrType, "exif-ifd3-GPSLatitude", "33/1 51/1 3180/100");
            m.Set(GValue.GStrType, "exif-ifd3-GPSLongitudeRef", "E");
            m.Set(GValue.GStrType, "exif-ifd3-GPSLongitude", "151/1 12/1 3600/100");
        });
        return image.JpegsaveBuffer(q: 90);
    }

    [Fact]
    public void Reads_camera_lens_and_capture_time_from_exif_and_hides_gps_unless_asked()
    {
        var info = Inspect(JpegWithExif());
        Assert.Equal(("jpeg", "image/jpeg", 120, 80, 8), (info.Format, info.MediaType, info.Width, info.Height, info.BitDepth));
        Assert.NotNull(info.Exif);
        Assert.Equal(("Fujifilm", "X-T30", "XF35mmF2 R WR"), (info.Exif.Make, info.Exif.Model, info.Exif.LensModel));
        Assert.Equal("2024-06-01T18:45:12", info.Exif.CaptureTime);
        Assert.Null(info.Exif.Gps);
        Assert.True(info.GpsPresent);

        var withGps = Inspect(JpegWithExif(), includeGps: true);
        Assert.NotNull(withGps.Exif?.Gps);
        Assert.Equal(-(33 + 51 / 60.0 + 31.8 / 3600), withGps.Exif.Gps.Latitude, 5);
        Assert.Equal(151 + 12 / 60.0 + 36 / 3600.0, withGps.Exif.Gps.Longitude, 5);
    }

    [Fact]
    public void Reports_the_displayed_size_and_the_orientation_of_a_rotated_jpeg()
    {
        var bytes = File.ReadAllBytes(TestPaths.RealImage("ocr-exif-orientation.jpg"));
        var header = _inspector.ReadHeader(bytes);
        var info = Inspect(bytes);
        Assert.Equal(header.Orientation, info.Orientation);
        Assert.NotEqual(1, info.Orientation);
        Assert.Equal((header.DisplayWidth, header.DisplayHeight), (info.Width, info.Height));
    }

    [Fact]
    public void Reports_16_bit_depth_and_alpha_of_a_png()
    {
        using var rgb = TestImages.Pattern(40, 30);
        using var alpha = Image.Black(40, 30) + 128;
        using var rgba = rgb.Bandjoin(alpha).Cast(Enums.BandFormat.Uchar);
        using var wide = (rgba.Cast(Enums.BandFormat.Ushort) * 257).Cast(Enums.BandFormat.Ushort).Copy(interpretation: Enums.Interpretation.Rgb16);
        var info = Inspect(wide.PngsaveBuffer());
        Assert.Equal(("png", 16, 4, true), (info.Format, info.BitDepth, info.Channels, info.HasAlpha));
    }

    [Fact]
    public void Counts_the_frames_of_an_animated_gif()
    {
        using var a = TestImages.Pattern(32, 24);
        using var b = a.Invert();
        using var c = a.Flip(Enums.Direction.Horizontal);
        using var strip = Image.Arrayjoin([a, b, c], across: 1);
        using var animated = strip.Mutate(m =>
        {
            m.Set(GValue.GIntType, "page-height", 24);
            m.Set(GValue.ArrayIntType, "delay", new[] { 100, 100, 100 });
        });
        var info = Inspect(animated.GifsaveBuffer());
        Assert.Equal(("gif", 3, true, 32, 24), (info.Format, info.Frames, info.Animated, info.Width, info.Height));
    }

    [Fact]
    public void A_blurred_copy_is_judged_blurry_and_the_original_sharp()
    {
        var dog = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        using var original = Image.NewFromBuffer(dog);
        using var blurred = original.Gaussblur(4);
        var sharp = Inspect(dog).Statistics.Sharpness;
        var blurry = Inspect(blurred.JpegsaveBuffer()).Statistics.Sharpness;
        Assert.False(sharp.Blurry, $"variance {sharp.LaplacianVariance}");
        Assert.True(blurry.Blurry, $"variance {blurry.LaplacianVariance}");
        Assert.True(blurry.LaplacianVariance < sharp.LaplacianVariance / 10);
    }

    [Fact]
    public void Dhash_matches_a_resized_recompressed_copy_and_not_another_photo()
    {
        var dog = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        using var original = Image.NewFromBuffer(dog);
        using var smaller = original.Resize(0.4);
        var copy = smaller.JpegsaveBuffer(q: 60);
        var hash = Inspect(dog).Statistics.DHash;
        Assert.Matches("^[0-9a-f]{16}$", hash);
        Assert.True(ImageStatistics.HammingDistance(hash, Inspect(copy).Statistics.DHash) <= 6);
        foreach (var other in new[] { "coco-000000000285.jpg", "faces-19.jpg", "coco-000000001675.jpg" })
            Assert.True(ImageStatistics.HammingDistance(hash, Inspect(File.ReadAllBytes(TestPaths.RealImage(other))).Statistics.DHash) >= 16, other);
    }

    [Fact]
    public void Dominant_colours_of_a_two_colour_image_are_those_colours_with_their_shares()
    {
        var bmp = TestImages.Bmp24(100, 50, (x, _) => x < 75 ? ((byte)220, (byte)30, (byte)40) : ((byte)20, (byte)60, (byte)200));
        var statistics = Inspect(bmp).Statistics;
        Assert.Equal(2, statistics.DominantColors.Count);
        Assert.Equal("#dc1e28", statistics.DominantColors[0].Hex);
        Assert.Equal(0.75, statistics.DominantColors[0].Share, 2);
        Assert.Equal("#143cc8", statistics.DominantColors[1].Hex);
        Assert.True(statistics.Colorfulness > 50);
    }

    [Fact]
    public void A_white_page_is_bright_flat_grey_and_blurry()
    {
        var bmp = TestImages.Bmp24(64, 64, (_, _) => (255, 255, 255));
        var statistics = Inspect(bmp).Statistics;
        Assert.Equal((1.0, 0.0, 0.0), (statistics.Brightness, statistics.Contrast, statistics.Colorfulness));
        Assert.True(statistics.Sharpness.Blurry);
        Assert.Equal("#ffffff", Assert.Single(statistics.DominantColors).Hex);
    }

    [Fact]
    public void Header_reading_rejects_what_the_decoder_rejects()
    {
        Assert.Throws<EmptyImageException>(() => _inspector.ReadHeader([]));
        Assert.Throws<UnsupportedImageFormatException>(() => _inspector.ReadHeader("hello"u8.ToArray()));
    }
}
