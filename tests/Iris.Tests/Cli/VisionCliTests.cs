using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Cli;

public class VisionCliTests
{
    private static string Flower(int index) => Path.Combine(TestPaths.Flowers, $"flower-{index:00}.png");

    [Fact]
    public async Task Classify_with_json_prints_the_http_document_per_file()
    {
        using var cache = new TempDirectory();
        var outcome = await IrisProcess.RunAsync(
            ["classify", Flower(0), Flower(1), "--model", "petal-color", "--top-k", "2", "--json", "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        using var document = JsonDocument.Parse(outcome.StandardOutput);
        var labels = document.RootElement.EnumerateArray()
            .Select(d => d.GetProperty("result").GetProperty("predictions")[0].GetProperty("label").GetString()).ToList();
        Assert.Equal(["purple", "white"], labels);
        Assert.Equal(2, document.RootElement[0].GetProperty("result").GetProperty("predictions").GetArrayLength());
    }

    [Theory]
    [InlineData("detect", "--min-confidence", "2", "--min-confidence must be between 0 and 1; got 2.")]
    [InlineData("faces", "--max-faces", "0", "--max-faces must be between 1 and 1000; got 0.")]
    [InlineData("classify", "--top-k", "1001", "--top-k must be between 1 and 1000; got 1001.")]
    [InlineData("ocr", "--min-confidence", "1.5", "--min-confidence must be between 0 and 1; got 1.5.")]
    public async Task An_out_of_range_option_exits_1_naming_the_option_before_any_model_is_loaded(string command, string option, string value, string message)
    {
        using var cache = new TempDirectory();
        var outcome = await IrisProcess.RunAsync([command, Flower(0), option, value, "--model-cache", cache.Path]);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains(message, outcome.StandardError);
        Assert.Empty(Directory.EnumerateFileSystemEntries(cache.Path));
    }

    [Fact]
    public async Task Faces_prints_a_table_with_the_face_count()
    {
        using var cache = new TempDirectory();
        var outcome = await IrisProcess.RunAsync(
            ["faces", TestPaths.RealImage("faces-2.jpg"), "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        Assert.Contains("4 face(s)", outcome.StandardOutput);
    }

    [Fact]
    public async Task Info_prints_exif_and_fails_for_a_file_that_is_not_an_image()
    {
        using var cache = new TempDirectory();
        var notAnImage = cache.File("notes.png");
        await File.WriteAllTextAsync(notAnImage, "not a picture");
        var outcome = await IrisProcess.RunAsync(["info", TestPaths.RealImage("dog.jpg"), notAnImage, "--json", "--model-cache", cache.Path]);
        Assert.Equal(1, outcome.ExitCode);
        using var document = JsonDocument.Parse(outcome.StandardOutput);
        Assert.Equal("Canon PowerShot S95", document.RootElement[0].GetProperty("result").GetProperty("exif").GetProperty("model").GetString());
        Assert.Contains("not an image", document.RootElement[1].GetProperty("error").GetString());
    }

    [Fact]
    public async Task Analyze_runs_the_named_tasks_and_rejects_unknown_ones()
    {
        using var cache = new TempDirectory();
        string[] common = ["--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path];
        var outcome = await IrisProcess.RunAsync(["analyze", TestPaths.RealImage("faces-13.jpg"), "--tasks", "faces,info", "--param", "faces_model=ultraface-rfb-640", .. common]);
        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        using var document = JsonDocument.Parse(outcome.StandardOutput);
        var result = document.RootElement[0].GetProperty("result");
        Assert.Equal("ultraface-rfb-640", result.GetProperty("faces").GetProperty("model").GetString());
        Assert.Equal(2, result.GetProperty("faces").GetProperty("faces").GetArrayLength());
        Assert.True(result.TryGetProperty("info", out _));

        var unknown = await IrisProcess.RunAsync(["analyze", TestPaths.RealImage("dog.jpg"), "--tasks", "detect,sparkle", .. common]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("Valid tasks: classify, describe, detect, faces, info, moderate, ocr", unknown.StandardError);
    }
}
