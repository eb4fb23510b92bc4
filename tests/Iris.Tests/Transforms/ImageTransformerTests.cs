using Iris.Core.Imaging;
using Iris.Core.Transforms;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Transforms;

public class ImageTransformerTests
{
    private readonly ImageTransformer _transformer = new(ImageLimits.Default, TransformLimits.Default);

    private TransformResult Run(byte[] input, string ops) => _transformer.Transform(input, _transformer.Parser.Parse(ops), null);

    private static Image Decode(TransformResult result)
    {
        if (result.Format != ImageFormat.Bmp) return Image.NewFromBuffer(result.Bytes);
        // The bundled libvips reads no BMP: Iris's own reader, independent of the writer, reads it back.
        var header = BmpDecoder.ReadHeader(result.Bytes);
        return Image.NewFromMemory(BmpDecoder.DecodeRgb(result.Bytes, header), header.Width, header.Height, 3, Enums.BandFormat.Uchar);
    }

    /// <summary>The stored pixels that a viewer turns into <paramref name="upright"/> when it applies EXIF orientation <paramref name="orientation"/>.</summary>
    private static Image StoredFor(Image upright, int orientation) => orientation switch
    {
        2 => upright.FlipHor(),
        3 => upright.Rot180(),
        4 => upright.FlipVer(),
        5 => upright.Rot90().FlipHor(),  // transpose is its own inverse
        6 => upright.Rot270(),           // displayed after a quarter turn clockwise
        7 => upright.Rot90().FlipVer(),  // transverse is its own inverse
        8 => upright.Rot90(),
        _ => upright.Copy(),
    };

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)] [InlineData(7)] [InlineData(8)]
    public void Every_exif_orientation_is_applied_both_with_and_without_shrink_on_load(int orientation)
    {
        using var upright = TestImages.Pattern(96, 64);
        using var stored = StoredFor(upright, orientation);
        using var tagged = stored.Mutate(m => m.Set(GValue.GIntType, "orientation", orientation));
        var jpeg = tagged.JpegsaveBuffer(q: 98, subsampleMode: Enums.ForeignSubsample.Off, keep: Enums.ForeignKeep.Exif);

        using var full = Decode(Run(jpeg, "format:png"));
        PixelAssert.Similar(upright, full, 2.0, $"orientation {orientation}");

        using var half = Decode(Run(jpeg, "resize:w=48;format:png"));
        using var expectedHalf = upright.Resize(0.5);
        PixelAssert.Similar(expectedHalf, half, 3.0, $"orientation {orientation}, shrink-on-load");
    }

    public static TheoryData<string> WritableFormats() => new(OutputFormats.Supported.Select(f => f.Name()));

    [Theory]
    [MemberData(nameof(WritableFormats))]
    public void Each_writable_format_round_trips_with_its_size_and_pixels(string format)
    {
        using var pattern = TestImages.Pattern(80, 60);
        var result = Run(TestImages.Encode(pattern, ".png"), $"format:{format},q=95");
        Assert.Equal(format, ImageFormatSniffer.Sniff(result.Bytes)!.Value.Name());
        Assert.Equal(format, result.Format.Name());
        using var decoded = Decode(result);
        using var rgb = decoded.Bands > 3 ? decoded.ExtractBand(0, n: 3) : decoded.Copy();
        // GIF is palettised and dithered, the lossy codecs blur a little: all stay close to the source.
        PixelAssert.Similar(pattern, rgb, format == "gif" ? 12 : 4, format);
    }

    [Fact]
    public void Heif_is_answered_clearly_when_the_bundled_libvips_cannot_write_it()
    {
        if (OutputFormats.IsSupported(ImageFormat.Heif)) return; // nothing to refuse on a build with HEVC
        using var pattern = TestImages.Pattern();
        var error = Assert.Throws<OutputFormatUnsupportedException>(() => Run(TestImages.Encode(pattern, ".png"), "format:heif"));
        Assert.Contains("cannot write HEIF", error.Message);
        Assert.Contains("avif", error.Message);
    }

    [Fact]
    public void Without_a_format_operation_the_source_format_is_kept_and_bmp_becomes_png()
    {
        using var pattern = TestImages.Pattern();
        Assert.Equal(ImageFormat.WebP, Run(TestImages.Encode(pattern, ".webp"), "flip").Format);
        Assert.Equal(ImageFormat.Jpeg, Run(TestImages.Encode(pattern, ".jpg"), "flip").Format);
        var bmp = TestImages.Bmp24(40, 30, (x, y) => ((byte)(x * 6), (byte)(y * 8), 200));
        var fromBmp = Run(bmp, "resize:w=20");
        Assert.Equal((ImageFormat.Png, 20, 15), (fromBmp.Format, fromBmp.Width, fromBmp.Height));
        using var decoded = Decode(fromBmp);
        Assert.Equal(200, decoded.Getpoint(10, 7)[2], 1.0);
    }

    [Fact]
    public void Auto_format_follows_the_accept_header()
    {
        using var pattern = TestImages.Pattern();
        var png = TestImages.Encode(pattern, ".png");
        var auto = _transformer.Parser.Parse("format:auto");
        Assert.Equal(ImageFormat.WebP, _transformer.Transform(png, auto, "image/webp,*/*").Format);
        Assert.Equal(ImageFormat.Avif, _transformer.Transform(png, auto, "image/avif,image/webp,*/*").Format);
        Assert.Equal(ImageFormat.WebP, _transformer.Transform(png, auto, "image/avif;q=0,image/webp").Format);
        Assert.Equal(ImageFormat.Png, _transformer.Transform(png, auto, "*/*").Format);
    }

    [Fact]
    public void Metadata_is_stripped_by_default_and_kept_on_request()
    {
        using var pattern = TestImages.Pattern();
        using var tagged = pattern.Mutate(m =>
        {
            m.Set(GValue.GStrType, "exif-ifd0-Artist", "Someone");
            m.Set(GValue.GIntType, "orientation", 1);
        });
        var jpeg = tagged.JpegsaveBuffer(keep: Enums.ForeignKeep.All);
        using var stripped = Decode(Run(jpeg, "flip"));
        Assert.False(stripped.Contains("exif-data"));
        using var kept = Decode(Run(jpeg, "flip;metadata:keep=true"));
        Assert.True(kept.Contains("exif-data"));
    }

    [Fact]
    public void An_embedded_colour_profile_is_converted_to_srgb_and_dropped_unless_kept()
    {
        using var pattern = TestImages.Pattern();
        var withProfile = pattern.JpegsaveBuffer(profile: "p3", keep: Enums.ForeignKeep.Icc);
        using (var check = Image.NewFromBuffer(withProfile))
            Assert.True(check.Contains("icc-profile-data"));
        using var converted = Decode(Run(withProfile, "flip"));
        Assert.False(converted.Contains("icc-profile-data"));
        using var kept = Decode(Run(withProfile, "flip;metadata:icc=keep"));
        Assert.True(kept.Contains("icc-profile-data"));
    }

    [Fact]
    public void Jpeg_options_progressive_and_quality_reach_the_encoder()
    {
        using var photo = Image.NewFromFile(TestPaths.RealImage("dog.jpg"));
        var source = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        var low = Run(source, "format:jpeg,q=30");
        var high = Run(source, "format:jpeg,q=95");
        Assert.True(low.Bytes.Length * 2 < high.Bytes.Length);
        var progressive = Run(source, "format:jpeg,progressive=true");
        using var decoded = Decode(progressive);
        Assert.Equal(1, (int)decoded.Get("interlaced"));
    }

    [Fact]
    public void Png_palette_makes_an_8_bit_palette_image()
    {
        var source = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        var truecolour = Run(source, "resize:w=200;format:png");
        var palette = Run(source, "resize:w=200;format:png,palette=true");
        Assert.True(palette.Bytes.Length < truecolour.Bytes.Length);
        using var decoded = Decode(palette);
        Assert.Equal(1, (int)decoded.Get("palette"));
    }

    [Fact]
    public void Lossless_webp_keeps_every_pixel()
    {
        using var pattern = TestImages.Pattern();
        using var decoded = Decode(Run(TestImages.Encode(pattern, ".png"), "format:webp,lossless=true"));
        PixelAssert.Similar(pattern, decoded, 0, "lossless webp");
    }

    [Fact]
    public void Transparent_pixels_become_the_background_in_jpeg()
    {
        using var rgb = TestImages.Pattern(20, 20);
        using var alpha = Image.Black(20, 20) + 0;
        using var rgba = rgb.Bandjoin(alpha.Cast(Enums.BandFormat.Uchar)).Copy(interpretation: Enums.Interpretation.Srgb);
        using var white = Decode(Run(TestImages.Encode(rgba, ".png"), "format:jpeg"));
        Assert.All(white.Getpoint(5, 5), v => Assert.InRange(v, 250, 255));
        using var red = Decode(Run(TestImages.Encode(rgba, ".png"), "format:jpeg,background=ff0000"));
        Assert.InRange(red.Getpoint(5, 5)[0], 240, 255);
        Assert.InRange(red.Getpoint(5, 5)[1], 0, 15);
    }

    [Fact]
    public void A_one_pixel_source_can_be_resized_cropped_and_filtered()
    {
        using var one = Image.Black(1, 1, bands: 3) + 128;
        var png = TestImages.Encode(one.Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb), ".png");
        Assert.Equal((1, 1), (Run(png, "resize:w=10").Width, Run(png, "resize:w=10").Height));
        Assert.Equal((10, 10), (Run(png, "resize:w=10,enlarge=true").Width, Run(png, "resize:w=10,enlarge=true").Height));
        var filtered = Run(png, "crop:w=5,h=5;gaussblur:2;sharpen;median:3;trim;edge;format:webp");
        Assert.Equal((1, 1), (filtered.Width, filtered.Height));
    }

    [Fact]
    public void An_over_limit_source_is_refused_from_its_header()
    {
        var bomb = TestImages.PngWithDeclaredSize(16000, 16000);
        Assert.Throws<ImageDimensionsTooLargeException>(() => Run(bomb, "resize:w=100"));
        Assert.Throws<ImageDimensionsTooLargeException>(() => _transformer.Inspect(bomb));
    }

    [Fact]
    public void Steps_that_would_exceed_the_output_pixel_limit_fail_before_any_pixel_work()
    {
        var small = new ImageTransformer(ImageLimits.Default, TransformLimits.Default with { MaxOutputPixels = 10_000 });
        using var pattern = TestImages.Pattern(64, 48);
        var error = Assert.Throws<OutputTooLargeException>(() =>
            small.Transform(TestImages.Encode(pattern, ".png"), small.Parser.Parse("resize:w=1000,enlarge=true;resize:w=10"), null));
        Assert.Equal("resize", error.Parameter);
        Assert.Contains("Transforms:MaxOutputPixels", error.Message);
    }

    [Fact]
    public void Sources_with_more_frames_than_the_limit_are_refused()
    {
        using var frame = TestImages.Pattern(16, 16);
        using var flipped = frame.FlipHor();
        using var inverted = frame.Invert();
        // Distinct frames: GIF writers merge identical neighbours into one.
        using var strip = Image.Arrayjoin([frame, flipped, inverted], across: 1);
        using var animated = strip.Mutate(m => m.Set(GValue.GIntType, "page-height", 16));
        var gif = animated.GifsaveBuffer();
        var limited = new ImageTransformer(ImageLimits.Default, TransformLimits.Default with { MaxFrames = 2 });
        var error = Assert.Throws<TooManyFramesException>(() => limited.Transform(gif, limited.Parser.Parse("flip"), null));
        Assert.Contains("3 frames", error.Message);
        Assert.Equal(ImageFormat.Gif, _transformer.Transform(gif, _transformer.Parser.Parse("flip"), null).Format);
    }

    private static byte[] AnimatedGif(int size, out Image[] frames)
    {
        var first = TestImages.Pattern(size, size);
        frames = [first, first.FlipHor(), first.Invert()];
        using var strip = Image.Arrayjoin(frames, across: 1);
        using var animated = strip.Mutate(m =>
        {
            m.Set(GValue.GIntType, "page-height", size);
            m.Set(GValue.ArrayIntType, "delay", new[] { 100, 100, 100 });
        });
        return animated.GifsaveBuffer();
    }

    [Theory]
    [InlineData("gif")]
    [InlineData("webp")]
    public void Animations_stay_animated_with_every_frame_transformed(string format)
    {
        var gif = AnimatedGif(32, out var frames);
        var result = Run(gif, $"resize:w=16;flip;format:{format}");
        using var output = Image.NewFromBuffer(result.Bytes, kwargs: new VOption { { "n", -1 } });
        Assert.Equal((16, 16, 48), (output.Width, output.PageHeight, output.Height));
        for (var i = 0; i < 3; i++)
        {
            using var expected = frames[i].Resize(0.5).FlipVer();
            using var frame = output.Crop(0, i * 16, 16, 16).ExtractBand(0, n: 3);
            PixelAssert.Similar(expected, frame, format == "gif" ? 16 : 8, $"frame {i}");
        }
        foreach (var frame in frames) frame.Dispose();
    }

    [Fact]
    public void An_animation_written_as_a_still_format_keeps_its_first_frame()
    {
        var gif = AnimatedGif(32, out var frames);
        using var output = Decode(Run(gif, "resize:w=16;format:png"));
        Assert.Equal((16, 16), (output.Width, output.Height));
        using var expected = frames[0].Resize(0.5);
        PixelAssert.Similar(expected, output.ExtractBand(0, n: 3), 16, "first frame");
        foreach (var frame in frames) frame.Dispose();
    }

    [Fact]
    public void Work_past_the_time_budget_is_stopped()
    {
        var hurried = new ImageTransformer(ImageLimits.Default, TransformLimits.Default with { TimeBudget = TimeSpan.FromMilliseconds(1) });
        var photo = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        Assert.Throws<TransformTimeoutException>(() =>
            hurried.Transform(photo, hurried.Parser.Parse("resize:w=4000,enlarge=true;gaussblur:50;format:png,compression=9"), null));
    }

    [Theory]
    [InlineData(new byte[0], typeof(EmptyImageException))]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, typeof(UnsupportedImageFormatException))]
    public void Bad_input_fails_with_the_intake_exceptions(byte[] input, Type expected) =>
        Assert.IsType(expected, Record.Exception(() => Run(input, "flip")));

    [Fact]
    public void Truncated_images_are_reported_as_corrupt()
    {
        var photo = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        Assert.Throws<CorruptImageException>(() => Run(photo[..(photo.Length / 2)], "flip"));
        Assert.Throws<CorruptImageException>(() => Run(photo[..(photo.Length / 2)], "resize:w=100"));
    }

    [Fact]
    public void Oversize_input_is_refused_before_decoding()
    {
        var tiny = new ImageTransformer(ImageLimits.Default with { MaxBytes = 1000 }, TransformLimits.Default);
        Assert.Throws<ImageTooLargeException>(() => tiny.Transform(File.ReadAllBytes(TestPaths.RealImage("dog.jpg")), TransformPipeline.Empty, null));
    }
}
