using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Cli;

public class CliTests
{
    [Fact]
    public async Task Detect_with_json_prints_the_same_document_as_the_http_api()
    {
        using var cache = new TempDirectory();
        var outcome = await IrisProcess.RunAsync(
            ["detect", TestPaths.RealImage("dog.jpg"), "--json", "--min-confidence", "0.3", "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        using var document = JsonDocument.Parse(outcome.StandardOutput);
        var result = document.RootElement[0].GetProperty("result");
        Assert.Equal("yolox-nano", result.GetProperty("model").GetString());
        var labels = result.GetProperty("objects").EnumerateArray().Select(o => o.GetProperty("label").GetString()).ToList();
        Assert.Contains("dog", labels);
        Assert.Contains("bicycle", labels);
        Assert.True(result.GetProperty("timings_ms").TryGetProperty("inference", out _));
    }

    [Fact]
    public async Task Detect_prints_a_table_and_fails_for_a_file_that_is_not_an_image()
    {
        using var cache = new TempDirectory();
        var notAnImage = cache.File("notes.jpg");
        await File.WriteAllTextAsync(notAnImage, "shopping list");
        var outcome = await IrisProcess.RunAsync(
            ["detect", TestPaths.RealImage("coco-000000000724.jpg"), notAnImage, "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("stop sign", outcome.StandardOutput);
        Assert.Contains("notes.jpg", outcome.StandardError);
        Assert.Contains("not an image", outcome.StandardError);
    }

    [Fact]
    public async Task Models_pull_verify_list_and_remove_work_against_the_mirror()
    {
        using var cache = new TempDirectory();
        string[] common = ["--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path];

        var pull = await IrisProcess.RunAsync(["models", "pull", "ultraface-rfb-320", .. common]);
        Assert.True(pull.ExitCode == 0, pull.StandardError);

        var verify = await IrisProcess.RunAsync(["models", "verify", .. common]);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("ultraface-rfb-320/version-RFB-320.onnx: ok", verify.StandardOutput);

        var list = await IrisProcess.RunAsync(["models", "list", "--json", .. common]);
        using var models = JsonDocument.Parse(list.StandardOutput);
        Assert.True(models.RootElement.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "ultraface-rfb-320").GetProperty("installed").GetBoolean());

        var remove = await IrisProcess.RunAsync(["models", "remove", "ultraface-rfb-320", .. common]);
        Assert.Equal(0, remove.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(cache.Path, "ultraface-rfb-320")));
    }

    [Fact]
    public async Task Models_pull_of_an_unknown_model_fails_listing_the_known_ones()
    {
        var outcome = await IrisProcess.RunAsync(["models", "pull", "no-such-model"]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("yolox-nano", outcome.StandardError);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("detect")]
    [InlineData("models")]
    [InlineData("models pull")]
    [InlineData("models list")]
    [InlineData("models verify")]
    [InlineData("models remove")]
    public async Task Every_command_has_help(string command)
    {
        var outcome = await IrisProcess.RunAsync([.. command.Split(' '), "--help"]);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("Usage:", outcome.StandardOutput);
        Assert.Contains("Description:", outcome.StandardOutput);
    }
}
