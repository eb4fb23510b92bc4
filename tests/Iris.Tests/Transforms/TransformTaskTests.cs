using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;
using Iris.Tests.Support;

namespace Iris.Tests.Transforms;

public class TransformTaskTests
{
    private readonly TransformTask _task = new(new ImageTransformer(ImageLimits.Default, TransformLimits.Default));

    [Fact]
    public void A_bad_ops_argument_is_the_one_bad_parameter_exception_and_names_the_argument()
    {
        var reader = ParameterReader.From(new Dictionary<string, string?> { ["ops"] = "resize:w=-3" });
        var error = Assert.ThrowsAny<InvalidParameterException>(() => _task.Read(reader));
        Assert.IsType<InvalidTransformException>(error);
        Assert.Equal("resize.w", error.Parameter);
        Assert.Equal("resize.w must be a whole number between 1 and 100000; got '-3'.", error.Message);
    }

    [Fact]
    public async Task A_target_extension_picks_the_format_only_when_the_ops_name_none()
    {
        var png = _task.Read("resize:w=20").WithFormatIfUnset(OutputFormat.Png);
        var webp = _task.Read("resize:w=20;format:webp").WithFormatIfUnset(OutputFormat.Png);

        var result = await _task.RunAsync(png, File.ReadAllBytes(TestPaths.RealImage("dog.jpg")));

        Assert.Equal((ImageFormat.Png, 20), (result.Format, result.Width));
        Assert.Equal(OutputFormat.WebP, webp.Pipeline.Output.Format);
    }
}
