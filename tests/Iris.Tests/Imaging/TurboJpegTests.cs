using Iris.Core.Imaging;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Imaging;

/// <summary>
/// Images:TurboJpeg: JPEGs decoded by libjpeg-turbo's TurboJPEG give the pixels libvips gives, byte for byte, whole and
/// shrunk on load; what TurboJPEG should not take (rotated, CMYK, damaged) ends as it did with libvips alone.
/// </summary>
public class TurboJpegTests
{
    internal static readonly ImageDecoder Turbo = new(ImageLimits.Default, turboJpeg: true);
    internal static readonly ImageDecoder Vips = new(ImageLimits.Default, turboJpeg: false);

    private static void RequireTurboJpeg() =>
        Assert.True(TurboJpeg.Installed is not null,
            "libturbojpeg.so.0 is not installed; scripts/install-test-deps.sh installs Debian's libturbojpeg0.");

    public static TheoryData<string> SharedJpegs()
    {
        var files = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.Shared, "testdata"), "*.jp*g", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            files.Add(Path.GetRelativePath(TestPaths.Shared, file));
        return files;
    }

    [Theory]
    [MemberData(nameof(SharedJpegs))]
    public void Every_shared_jpeg_decodes_to_the_same_pixels_as_libvips(string file)
    {
        RequireTurboJpeg();
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.Shared, file));
        var turbo = Turbo.Decode(bytes);
        var vips = Vips.Decode(bytes);
        Assert.Equal(turbo.Orientation == 1 ? "turbojpeg" : "libvips", turbo.DecodedBy);
        Assert.Equal("libvips", vips.DecodedBy);
        AssertSamePixels(vips, turbo);
    }

    public static TheoryData<string, int, int> Encodings() => new()
    {
        { "4:2:0", 333, 207 },
        { "4:4:4", 640, 480 },
        { "4:4:4", 641, 479 },
        { "progressive", 800, 600 },
        { "grey", 517, 389 },
        { "restart markers", 1024, 768 },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Each_encoding_and_odd_size_decodes_to_the_same_pixels_as_libvips_whole_and_shrunk_by_2_4_and_8(string encoding, int width, int height)
    {
        RequireTurboJpeg();
        var jpeg = Encode(encoding, width * 4, height * 4);
        // Needs that leave the resampler 2×: none (whole), then letterboxes that let it be shrunk by 2, 4 and 8.
        foreach (var need in new[] { (DecodeNeed?)null, DecodeNeed.Contain(width, height), DecodeNeed.Contain(width / 2, height / 2), DecodeNeed.Contain(width / 4, height / 4) })
        {
            var needs = need is { } n ? new[] { n } : [];
            var vips = Vips.Decode(jpeg, needs);
            var turbo = Turbo.Decode(jpeg, needs);
            Assert.Equal("turbojpeg", turbo.DecodedBy);
            AssertSamePixels(vips, turbo);
            Assert.Equal((vips.OriginalWidth, vips.OriginalHeight, vips.ToOriginalScale), (turbo.OriginalWidth, turbo.OriginalHeight, turbo.ToOriginalScale));
        }
        Assert.Equal((8.0, 8.0), Turbo.Decode(jpeg, [DecodeNeed.Contain(width / 4, height / 4)]).ToOriginalScale);
    }

    [Fact]
    public void A_rotated_jpeg_is_turned_upright_as_before()
    {
        RequireTurboJpeg();
        var bytes = File.ReadAllBytes(TestPaths.RealImage("ocr-exif-orientation.jpg"));
        var turbo = Turbo.Decode(bytes);
        Assert.NotEqual(1, turbo.Orientation);
        Assert.Equal("libvips", turbo.DecodedBy);
        AssertSamePixels(Vips.Decode(bytes), turbo);
    }

    [Fact]
    public void A_cmyk_jpeg_is_converted_by_libvips_as_before()
    {
        RequireTurboJpeg();
        using var pattern = TestImages.Pattern(320, 240);
        using var cmyk = pattern.Colourspace(Enums.Interpretation.Cmyk);
        var bytes = cmyk.JpegsaveBuffer(q: 90);
        var turbo = Turbo.Decode(bytes);
        Assert.Equal("libvips", turbo.DecodedBy);
        AssertSamePixels(Vips.Decode(bytes), turbo);
    }

    [Fact]
    public void A_truncated_jpeg_is_refused_as_corrupt_as_before()
    {
        RequireTurboJpeg();
        var whole = Encode("4:2:0", 640, 480);
        var truncated = whole[..(whole.Length / 2)];
        var vips = Assert.Throws<CorruptImageException>(() => Vips.Decode(truncated));
        var turbo = Assert.Throws<CorruptImageException>(() => Turbo.Decode(truncated));
        Assert.Equal(vips.Message, turbo.Message);
    }

    [Fact]
    public void Turned_off_or_turned_on_the_decoder_says_which_it_uses()
    {
        RequireTurboJpeg();
        Assert.True(Turbo.UsesTurboJpeg);
        Assert.False(Vips.UsesTurboJpeg);
        Assert.Contains("Images:TurboJpeg=false", TurboJpeg.Describe(requested: false));
        Assert.Contains("TurboJPEG", TurboJpeg.Describe(requested: true));
    }

    [Fact]
    public async Task The_server_names_the_decoder_in_health_and_in_the_decode_metric()
    {
        RequireTurboJpeg();
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>());
        await host.WaitUntilReadyAsync();
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg")));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
        using var detect = await host.Client.PostAsync("/v1/detect", content);
        detect.EnsureSuccessStatusCode();

        Assert.Contains("JPEG: libjpeg-turbo's TurboJPEG", await host.Client.GetStringAsync("/health"));
        var metrics = (await host.Client.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains(metrics, line => line.StartsWith("iris_image_decode_duration_seconds_count{", StringComparison.Ordinal)
            && line.Contains("decoder=\"turbojpeg\"") && line.Contains("format=\"jpeg\""));
    }

    private static byte[] Encode(string encoding, int width, int height)
    {
        using var pattern = TestImages.Pattern(width, height);
        return encoding switch
        {
            "4:2:0" => pattern.JpegsaveBuffer(q: 85),
            "4:4:4" => pattern.JpegsaveBuffer(q: 92, subsampleMode: Enums.ForeignSubsample.Off),
            "progressive" => pattern.JpegsaveBuffer(q: 85, interlace: true),
            "grey" => GreyJpeg(pattern),
            "restart markers" => pattern.JpegsaveBuffer(q: 85, restartInterval: 4),
            _ => throw new ArgumentOutOfRangeException(nameof(encoding)),
        };
    }

    private static byte[] GreyJpeg(Image pattern)
    {
        using var grey = pattern.Colourspace(Enums.Interpretation.Bw);
        return grey.JpegsaveBuffer(q: 85);
    }

    private static void AssertSamePixels(DecodedImage expected, DecodedImage actual)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var length = expected.Width * expected.Height * 3;
        var first = expected.Rgb.AsSpan(0, length).CommonPrefixLength(actual.Rgb.AsSpan(0, length));
        Assert.True(first == length, $"pixels differ from byte {first} of {length} (pixel {first / 3}: {expected.Rgb[Math.Min(first, length - 1)]} vs {actual.Rgb[Math.Min(first, length - 1)]})");
    }
}
