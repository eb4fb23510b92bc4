using Iris.Core.Imaging;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Cli;

public class TransformCommandTests
{
    [Fact]
    public async Task Transform_writes_the_result_in_the_format_of_the_output_extension()
    {
        using var dir = new TempDirectory();
        var output = dir.File("thumb.webp");
        var outcome = await IrisProcess.RunAsync(["transform", TestPaths.RealImage("dog.jpg"), output, "--ops", "resize:w=200,h=200,fit=cover;sharpen"]);
        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        var bytes = await File.ReadAllBytesAsync(output);
        Assert.Equal(ImageFormat.WebP, ImageFormatSniffer.Sniff(bytes));
        using var image = Image.NewFromBuffer(bytes);
        Assert.Equal((200, 200), (image.Width, image.Height));
        Assert.Contains("200×200 webp", outcome.StandardError);
    }

    [Fact]
    public async Task Invalid_ops_exit_2_naming_the_parameter_and_bad_images_exit_1()
    {
        using var dir = new TempDirectory();
        var bad = await IrisProcess.RunAsync(["transform", TestPaths.RealImage("dog.jpg"), dir.File("x.jpg"), "--ops", "resize:w=-5"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("resize.w must be a whole number between 1 and 100000", bad.StandardError);

        var notes = dir.File("notes.png");
        await File.WriteAllTextAsync(notes, "not pixels");
        var notImage = await IrisProcess.RunAsync(["transform", notes, dir.File("y.png"), "--ops", "flip"]);
        Assert.Equal(1, notImage.ExitCode);
        Assert.Contains("not an image", notImage.StandardError);
        Assert.False(File.Exists(dir.File("y.png")));
    }
}
