using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Transforms;
using Iris.Tests.Support;

namespace Iris.Tests.Hardening;

/// <summary>Per-dimension and aspect-ratio limits are checked from the header by every reader, before any pixel loop.</summary>
public sealed class ImageLimitsTests
{
    private static readonly ImageLimits Limits = ImageLimits.Default;

    public static TheoryData<string, byte[], string> Refused => new()
    {
        { "png 6,000,000×1", TestImages.PngWithDeclaredSize(6_000_000, 1), "Images:MaxWidth" },
        { "png 1,000,000×1", TestImages.PngWithDeclaredSize(1_000_000, 1), "Images:MaxWidth" },
        { "png 1×1,000,000", TestImages.PngWithDeclaredSize(1, 1_000_000), "Images:MaxHeight" },
        { "png 30,000×10", TestImages.PngWithDeclaredSize(30_000, 10), "Images:MaxAspectRatio" },
        { "png 8000×8000 declared", TestImages.PngWithDeclaredSize(8000, 8000), "Images:MaxPixels" },
        { "bmp 6,000,000×1", HostileImages.BmpHeader(6_000_000, 1, 24), "Images:MaxWidth" },
        { "bmp 5000×1", HostileImages.BmpHeader(5000, 1, 24), "Images:MaxAspectRatio" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void The_decoder_refuses_from_the_header_naming_the_limit(string name, byte[] data, string key)
    {
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<ImageDimensionsTooLargeException>(() => new ImageDecoder(Limits).Decode(data));
        Assert.Contains(key, error.Message);
        Assert.True(clock.ElapsedMilliseconds < 1000, $"{name}: {clock.ElapsedMilliseconds} ms");
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void The_header_reader_and_the_transformer_refuse_the_same_files(string name, byte[] data, string key)
    {
        Assert.Contains(key, Assert.Throws<ImageDimensionsTooLargeException>(() => ImageHeaderReader.Read(data, Limits)).Message);
        var transformer = new ImageTransformer(Limits, TransformLimits.Default);
        Assert.Contains(key, Assert.Throws<ImageDimensionsTooLargeException>(() => transformer.Inspect(data)).Message);
        Assert.Contains(key, Assert.Throws<ImageDimensionsTooLargeException>(
            () => transformer.Transform(data, transformer.Parser.Parse("flip;format:png"), null)).Message);
        _ = name;
    }

    [Fact]
    public void Limits_are_configurable_per_dimension()
    {
        var narrow = Limits with { MaxWidth = 20, MaxAspectRatio = 2 };
        using var pattern = TestImages.Pattern(32, 24);
        var png = TestImages.Encode(pattern, ".png");
        Assert.Contains("Images:MaxWidth", Assert.Throws<ImageDimensionsTooLargeException>(() => new ImageDecoder(narrow).Decode(png)).Message);
        Assert.Equal(32, new ImageDecoder(Limits).Decode(png).Width);
    }

    [Fact]
    public void An_svg_larger_than_MaxSvgPixels_is_rasterised_at_the_scale_that_fits()
    {
        var svg = """<svg xmlns="http://www.w3.org/2000/svg" width="6000" height="3000"><rect width="6000" height="3000" fill="red"/></svg>"""u8.ToArray();
        var image = new ImageDecoder(Limits with { MaxSvgPixels = 20_000 }).Decode(svg);
        Assert.True((long)image.Width * image.Height <= 20_000, $"{image.Width}×{image.Height}");
        Assert.InRange((double)image.Width / image.Height, 1.9, 2.1);
    }

    [Fact]
    public void A_decode_whose_caller_has_gone_is_killed_instead_of_finishing()
    {
        var large = HostileImages.PngRgb(4000, 4000);
        using var gone = new CancellationTokenSource();
        gone.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new ImageDecoder(Limits).Decode(large, gone.Token));
        var transformer = new ImageTransformer(Limits, TransformLimits.Default);
        Assert.ThrowsAny<OperationCanceledException>(() => transformer.Transform(large, transformer.Parser.Parse("resize:w=64"), null, gone.Token));
    }

    [Fact]
    public void An_svg_that_expands_through_nested_use_is_refused_before_librsvg_renders_it()
    {
        var bomb = HostileImages.Corpus().Single(f => f.Name == "svg-nested-use").Bytes;
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<ImageTooComplexException>(() => new ImageDecoder(Limits).Decode(bomb));
        Assert.Contains("<use>", error.Message);
        Assert.True(clock.ElapsedMilliseconds < 1000, $"{clock.ElapsedMilliseconds} ms");
        var transformer = new ImageTransformer(Limits, TransformLimits.Default);
        Assert.Throws<ImageTooComplexException>(() => transformer.Transform(bomb, transformer.Parser.Parse("flip;format:png"), null));
    }

    [Fact]
    public void An_svg_nested_thousands_of_levels_deep_is_refused_without_deep_recursion()
    {
        var deep = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\">" + string.Concat(Enumerable.Repeat("<g>", 100_000))
            + string.Concat(Enumerable.Repeat("</g>", 100_000)) + "</svg>";
        Assert.Throws<ImageTooComplexException>(() => SvgComplexity.Check(System.Text.Encoding.UTF8.GetBytes(deep)));
    }

    [Fact]
    public void An_ordinary_svg_with_a_filter_passes_the_complexity_check()
    {
        SvgComplexity.Check(System.Text.Encoding.UTF8.GetBytes(HostileImages.SvgBlurBomb));
        var image = new ImageDecoder(Limits).Decode(System.Text.Encoding.UTF8.GetBytes(
            """<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><defs><rect id="r" width="4" height="4"/></defs><use href="#r"/><use href="#r" x="10"/></svg>"""));
        Assert.Equal(40, image.Width);
    }

}
