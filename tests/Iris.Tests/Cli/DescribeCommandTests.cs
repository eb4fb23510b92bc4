using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Cli;

public class DescribeCommandTests
{
    [Fact]
    public async Task Describe_batches_files_and_prints_the_reference_beam_captions_as_json()
    {
        using var cache = new TempDirectory();
        string[] files = ["flower-01.png", "flower-06.png", "flower-03.png"];
        var outcome = await IrisProcess.RunAsync([
            "describe", .. files.Select(f => Path.Combine(FlowerReference.Folder, f)), "--num-beams", "3", "--max-new-tokens", "32",
            "--batch-size", "2", "--tokens", "--json", "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        using var document = JsonDocument.Parse(outcome.StandardOutput);
        for (var i = 0; i < files.Length; i++)
        {
            var result = document.RootElement[i].GetProperty("result");
            var reference = FlowerReference.ForFile(files[i]);
            Assert.Equal(reference.Beam3.Text, result.GetProperty("description").GetString());
            Assert.Equal(FlowerReference.Trim(reference.Beam3.Ids, 0), result.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        }
    }

    [Fact]
    public async Task Describe_reports_a_bad_file_and_still_captions_the_others()
    {
        using var cache = new TempDirectory();
        var notAnImage = cache.File("notes.png");
        await File.WriteAllTextAsync(notAnImage, "not pixels");
        var outcome = await IrisProcess.RunAsync([
            "describe", notAnImage, Path.Combine(FlowerReference.Folder, "flower-00.png"), "--model", "flower-captioner-tiny-quantized",
            "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("notes.png", outcome.StandardError);
        Assert.Contains($"flower-00.png: {FlowerReference.ForFile("flower-00.png").Greedy.Text}", outcome.StandardOutput);
    }

    [Fact]
    public async Task Describe_rejects_an_out_of_range_beam_count_naming_the_option()
    {
        using var cache = new TempDirectory();
        var outcome = await IrisProcess.RunAsync([
            "describe", Path.Combine(FlowerReference.Folder, "flower-00.png"), "--num-beams", "99", "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("num_beams", outcome.StandardError);
    }
}
