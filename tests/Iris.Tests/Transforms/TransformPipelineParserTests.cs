using System.Text.Json;
using Iris.Core.Transforms;

namespace Iris.Tests.Transforms;

public class TransformPipelineParserTests
{
    private readonly TransformPipelineParser _parser = new(maxPipelineLength: 8);

    [Fact]
    public void Parses_the_example_pipeline_into_typed_steps_and_output_settings()
    {
        var pipeline = _parser.Parse("resize:w=800,h=600,fit=cover;sharpen:sigma=1;format:webp,q=80");
        var resize = Assert.IsType<ResizeStep>(pipeline.Steps[0]);
        Assert.Equal((800, 600, ResizeFit.Cover), (resize.Width!.Value, resize.Height!.Value, resize.Fit));
        Assert.Equal(1, Assert.IsType<SharpenStep>(pipeline.Steps[1]).Sigma);
        Assert.Equal(OutputFormat.WebP, pipeline.Output.Format);
        Assert.Equal(80, pipeline.Output.Quality);
        Assert.False(pipeline.Output.KeepMetadata);
    }

    [Fact]
    public void Bare_values_fill_positional_parameters_in_order()
    {
        Assert.Equal(_parser.Parse("resize:w=300,h=200,fit=contain").Canonical, _parser.Parse("resize:300,200,contain").Canonical);
        Assert.Equal(_parser.Parse("rotate:angle=90").Canonical, _parser.Parse("rotate:90").Canonical);
    }

    [Fact]
    public void The_json_form_means_the_same_as_the_text_form()
    {
        var json = JsonDocument.Parse("""[{"op":"resize","w":800,"fit":"cover","h":600},{"op":"sharpen","sigma":1},{"op":"format","type":"webp","q":80}]""").RootElement;
        Assert.Equal(_parser.Parse("resize:w=800,h=600,fit=cover;sharpen:sigma=1;format:webp,q=80").Canonical, _parser.Parse(json).Canonical);
        Assert.Equal(_parser.Parse("flip;flop").Canonical, _parser.Parse(JsonDocument.Parse("""["flip", "flop"]""").RootElement).Canonical);
    }

    [Theory]
    [InlineData("resize:w=0", "resize.w", "between 1 and 100000")]
    [InlineData("resize:w=abc", "resize.w", "between 1 and 100000")]
    [InlineData("resize:fit=cover", "resize.w", "needs w or h")]
    [InlineData("resize:w=10,fit=squash", "resize.fit", "inside, contain, cover, fill, outside")]
    [InlineData("resize:w=10,kernel=magic", "resize.kernel", "lanczos3")]
    [InlineData("resize:w=10,colour=red", "resize.colour", "accepts w, h, fit")]
    [InlineData("rotate", "rotate.angle", "between -360 and 360")]
    [InlineData("rotate:45,background=zzz", "rotate.background", "hex colour")]
    [InlineData("median:4", "median.size", "odd number between 3 and 15")]
    [InlineData("gaussblur:sigma=1000", "gaussblur.sigma", "between 0.1 and 100")]
    [InlineData("format:ico", "format.type", "jpeg, jpg, png")]
    [InlineData("format:jpeg,q=101", "format.q", "between 1 and 100")]
    [InlineData("format:jpeg,lossless=true", "format.lossless", "webp, avif")]
    [InlineData("enhance", "enhance", "at least one")]
    [InlineData("teleport:now", "ops", "Unknown operation 'teleport'")]
    [InlineData("flip:1", "flip", "no positional arguments")]
    [InlineData("crop:w=10,20", "crop", "must come before")]
    public void Invalid_parameters_name_the_parameter_and_the_allowed_values(string ops, string parameter, string message)
    {
        var error = Assert.Throws<InvalidTransformException>(() => _parser.Parse(ops));
        Assert.Equal(parameter, error.Parameter);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_pipeline_longer_than_the_limit_is_rejected()
    {
        var error = Assert.Throws<InvalidTransformException>(() => _parser.Parse(string.Join(";", Enumerable.Repeat("flip", 9))));
        Assert.Equal("ops", error.Parameter);
        Assert.Contains("the limit is 8 (Transforms:MaxPipelineLength)", error.Message);
    }

    [Fact]
    public void A_huge_ops_string_is_refused_after_the_limit_without_splitting_the_rest()
    {
        var ops = string.Concat(Enumerable.Repeat("a;", 5_000_000));
        var json = System.Text.Json.JsonDocument.Parse("[" + string.Join(",", Enumerable.Repeat("\"flip\"", 100_000)) + "]").RootElement;

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidTransformException>(() => _parser.Parse(ops));
        var jsonError = Assert.Throws<InvalidTransformException>(() => _parser.Parse(json));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("more than 8 operations", error.Message);
        Assert.Contains("more than 8 operations", jsonError.Message);
        // Splitting the 10 MB string would allocate 5 million strings (over 100 MB).
        Assert.True(allocated < 1_000_000, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void Output_operations_override_earlier_ones_and_do_not_add_steps()
    {
        var pipeline = _parser.Parse("format:png;quality:55;metadata:keep=true,icc=keep;format:jpeg,progressive=true");
        Assert.Empty(pipeline.Steps);
        Assert.Equal((OutputFormat.Jpeg, 55, true, true, IccHandling.Keep),
            (pipeline.Output.Format, pipeline.Output.Quality, pipeline.Output.Progressive, pipeline.Output.KeepMetadata, pipeline.Output.Icc));
    }

    [Fact]
    public void Empty_and_dash_mean_no_operations() =>
        Assert.All(new[] { null, "", " ", "-" }, ops => Assert.Same(TransformPipeline.Empty, _parser.Parse(ops)));

    [Theory]
    [InlineData(1000, 500, "w=500", 500, 250)]
    [InlineData(1000, 500, "h=100", 200, 100)]
    [InlineData(1000, 500, "w=300,h=300", 300, 150)]
    [InlineData(1000, 500, "w=300,h=300,fit=contain", 300, 300)]
    [InlineData(1000, 500, "w=300,h=300,fit=cover", 300, 300)]
    [InlineData(1000, 500, "w=300,h=300,fit=outside", 600, 300)]
    [InlineData(1000, 500, "w=300,h=300,fit=fill", 300, 300)]
    [InlineData(100, 50, "w=300", 100, 50)]
    [InlineData(100, 50, "w=300,enlarge=true", 300, 150)]
    [InlineData(100, 50, "w=300,h=300,fit=cover", 100, 50)]
    public void Resize_output_sizes_follow_the_fit(int width, int height, string args, int expectedWidth, int expectedHeight)
    {
        var step = (ResizeStep)_parser.Parse("resize:" + args).Steps[0];
        Assert.Equal((expectedWidth, expectedHeight), step.OutputSize(width, height));
    }
}
