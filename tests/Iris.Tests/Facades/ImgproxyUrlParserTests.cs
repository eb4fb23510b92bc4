using Iris.Core.Transforms;
using Iris.Core.Transforms.Imgproxy;
using Iris.Tests.Support;

namespace Iris.Tests.Facades;

public class ImgproxyUrlParserTests
{
    private static readonly ImgproxyOptionsParser Parser = new(new Dictionary<string, string>
    {
        ["thumb"] = "rs:fill:300:200/q:70",
        ["sharp"] = "sh:1/pr:thumb",
        ["loop"] = "pr:loop",
    });

    private static ImgproxyOptions Options(string path) => Parser.Parse(ImgproxyUrl.Parse("/sig/" + path).OptionSegments);

    [Fact]
    public void A_plain_source_is_percent_decoded_and_its_extension_follows_the_last_at()
    {
        var url = ImgproxyUrl.Parse("/abc/rs:fit:300:200/q:80/plain/http://example.com/a%20b%40c.jpg@webp");
        Assert.Equal("abc", url.Signature);
        Assert.Equal("/rs:fit:300:200/q:80/plain/http://example.com/a%20b%40c.jpg@webp", url.SignedPath);
        Assert.Equal(["rs:fit:300:200", "q:80"], url.OptionSegments);
        Assert.Equal("http://example.com/a b@c.jpg", url.Source);
        Assert.Equal("webp", url.Extension);
    }

    [Fact]
    public void A_base64_source_may_be_split_by_slashes_and_take_an_extension()
    {
        var url = ImgproxyUrl.Parse("/sig/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png");
        Assert.Equal("http://example.com/images/curiosity.jpg", url.Source);
        Assert.Equal("png", url.Extension);
        Assert.Equal(["g:sm"], url.OptionSegments);
    }

    [Fact]
    public void A_url_without_a_source_is_refused()
    {
        var e = Assert.Throws<InvalidTransformException>(() => ImgproxyUrl.Parse("/sig/rs:fit:10:10"));
        Assert.Contains("no source", e.Message);
    }

    [Fact]
    public void The_signature_matches_imgproxys_documented_example()
    {
        // The example of imgproxy's "Signing a URL" guide: key "secret" and salt "hello", hex-encoded.
        var signature = ImgproxySignature.FromHexLists("736563726574", "68656c6c6f");
        Assert.True(signature.Verify("oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8",
            "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"));
    }

    [Fact]
    public void Every_key_salt_pair_is_accepted_and_a_truncated_signature_is_the_digests_first_bytes()
    {
        var both = ImgproxySignature.FromHexLists("aa01,bb02", "cc03,dd04");
        var second = ImgproxySignature.FromHexLists("bb02", "dd04");
        Assert.True(both.Verify(second.Sign("/w:10/plain/x"), "/w:10/plain/x"));
        Assert.False(both.Verify(second.Sign("/w:10/plain/x"), "/w:11/plain/x"));

        var full = ImgproxySignature.FromHexLists("aa01", "cc03").Sign("/p");
        var truncated = ImgproxySignature.FromHexLists("aa01", "cc03", size: 8).Sign("/p");
        Assert.Equal(11, truncated.Length);
        Assert.Equal(Convert.FromBase64String(Pad(full))[..8], Convert.FromBase64String(Pad(truncated)));
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
    }

    [Fact]
    public void Options_take_imgproxys_positional_arguments_and_later_ones_override_earlier_ones()
    {
        var o = Options("rs:fill:300:200:1:1:so/w:150/plain/x");
        Assert.Equal((ResizingType.Fill, 150, 200, true, true, GravityType.South), (o.ResizingType, o.Width, o.Height, o.Enlarge, o.Extend, o.ExtendGravity.Type));
    }

    [Fact]
    public void Empty_arguments_keep_the_current_values()
    {
        var o = Options("rt:force/rs::100/plain/x");
        Assert.Equal((ResizingType.Force, 100, 0), (o.ResizingType, o.Width, o.Height));
    }

    [Fact]
    public void Gravity_reads_compass_offsets_smart_and_focus_points()
    {
        Assert.Equal(new ImgproxyGravity(GravityType.NorthEast, 10, 0.25), Options("g:noea:10:0.25/plain/x").Gravity);
        Assert.Equal(GravityType.Smart, Options("g:sm/plain/x").Gravity.Type);
        Assert.Equal(new ImgproxyGravity(GravityType.FocusPoint, 0.3, 0.7), Options("g:fp:0.3:0.7/plain/x").Gravity);
    }

    [Fact]
    public void Padding_follows_css_shorthand()
    {
        Assert.Equal(new Padding(10, 10, 10, 10), Options("pd:10/plain/x").Padding);
        Assert.Equal(new Padding(10, 5, 10, 5), Options("pd:10:5/plain/x").Padding);
        Assert.Equal(new Padding(1, 2, 3, 2), Options("pd:1:2:3/plain/x").Padding);
    }

    [Fact]
    public void Background_takes_rgb_or_hex_and_nothing_turns_it_off()
    {
        Assert.Equal(new Rgba(255, 0, 16, 255), Options("bg:255:0:16/plain/x").Background);
        Assert.Equal(new Rgba(0xff, 0x88, 0, 255), Options("bg:ff8800/plain/x").Background);
        Assert.Null(Options("bg:fff/bg:/plain/x").Background);
    }

    [Fact]
    public void Presets_expand_in_place_and_may_name_other_presets()
    {
        var o = Options("pr:sharp/q:90/plain/x");
        Assert.Equal((ResizingType.Fill, 300, 200, 1.0, 90), (o.ResizingType, o.Width, o.Height, o.Sharpen, o.Quality));
    }

    [Fact]
    public void The_default_preset_applies_to_every_url()
    {
        var parser = new ImgproxyOptionsParser(new Dictionary<string, string> { ["default"] = "q:60/sm:0" });
        var o = parser.Parse(["w:10"]);
        Assert.Equal((60, false, 10), (o.Quality, o.StripMetadata, o.Width));
    }

    [Theory]
    [InlineData("pr:nope/plain/x", "Unknown preset 'nope'")]
    [InlineData("pr:loop/plain/x", "nest deeper")]
    [InlineData("wm:0.5/plain/x", "'wm' is not supported")]
    [InlineData("frobnicate:1/plain/x", "Unknown imgproxy option 'frobnicate'")]
    [InlineData("rot:45/plain/x", "multiples of 90")]
    [InlineData("ar:0/plain/x", "always applies the EXIF orientation")]
    [InlineData("rt:stretch/plain/x", "unknown resizing type 'stretch'")]
    [InlineData("f:jxl/plain/x", "'jxl' is not supported")]
    [InlineData("t:10::1/plain/x", "equal_hor")]
    [InlineData("g:obj:face/plain/x", "object-oriented gravity")]
    [InlineData("w:-1/plain/x", "between 0 and")]
    [InlineData("el:maybe/plain/x", "must be a boolean")]
    public void What_iris_cannot_do_is_refused_by_name(string path, string message)
    {
        var e = Assert.Throws<InvalidTransformException>(() => Options(path));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData(ResizingType.Fit, 100, 100, false, 100, 75)]
    [InlineData(ResizingType.Fit, 0, 96, false, 128, 96)]
    [InlineData(ResizingType.Fill, 100, 100, false, 100, 100)]
    [InlineData(ResizingType.Fill, 400, 300, false, 256, 192)]
    [InlineData(ResizingType.Fill, 400, 300, true, 400, 300)]
    [InlineData(ResizingType.FillDown, 400, 200, false, 256, 128)]
    [InlineData(ResizingType.Force, 100, 0, false, 100, 192)]
    [InlineData(ResizingType.Force, 100, 50, false, 100, 50)]
    [InlineData(ResizingType.Auto, 100, 50, false, 100, 50)]
    [InlineData(ResizingType.Auto, 50, 100, false, 50, 38)]
    public void Resize_sizes_follow_imgproxys_calc_scale(ResizingType type, int width, int height, bool enlarge, int expectedWidth, int expectedHeight)
    {
        var step = new ImgproxyResizeStep(type, width, height, 1, enlarge, 0, ImgproxyGravity.Centre);
        Assert.Equal((expectedWidth, expectedHeight), step.OutputSize(256, 192));
    }

    [Fact]
    public void Dpr_multiplies_the_size_and_rotation_swaps_the_sides_before_scaling()
    {
        Assert.Equal((200, 150), new ImgproxyResizeStep(ResizingType.Fit, 100, 100, 2, false, 0, ImgproxyGravity.Centre).OutputSize(256, 192));
        Assert.Equal((96, 128), new ImgproxyResizeStep(ResizingType.Fit, 96, 0, 1, false, 90, ImgproxyGravity.Centre).OutputSize(256, 192));
    }

    [Fact]
    public void The_pipeline_follows_imgproxys_order_and_the_extension_wins_over_the_format_option()
    {
        var o = Options("bg:fff/pd:2/pix:4/bl:1/rs:fit:10:10:0:1/c:50:50/t:5/f:png/plain/x");
        var pipeline = ImgproxyPipeline.Build(o, OutputFormat.WebP);
        Assert.Equal(["trim", "crop", "resize", "gaussblur", "pixelate", "extend", "padding", "background"], pipeline.Steps.Select(s => s.Op));
        Assert.Equal(OutputFormat.WebP, pipeline.Output.Format);
        Assert.Equal(OutputFormat.Auto, ImgproxyPipeline.Build(Options("w:1/plain/x"), null).Output.Format);
    }
}
