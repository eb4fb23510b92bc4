using Iris.Configuration;

namespace Iris.Tests.Configuration;

public class VisionOptionsTests
{
    private static IrisOptions Load(params (string Key, string? Value)[] values) =>
        IrisConfiguration.Load(IrisConfiguration.Build(overrides: values.Select(v => KeyValuePair.Create(v.Key, v.Value))));

    [Fact]
    public void Vision_defaults_match_the_documented_values()
    {
        var options = Load();
        Assert.Equal(("petal-color", 5, 0f), (options.Classification.Model, options.Classification.TopK, options.Classification.MinConfidence));
        Assert.Equal(("ultraface-rfb-320", 0.7f, 100), (options.Faces.Model, options.Faces.MinConfidence, options.Faces.MaxFaces));
        Assert.Equal((100.0, 5), (options.Info.BlurThreshold, options.Info.PaletteSize));
        Assert.Equal(("detect,faces,info", 1), (options.Analyze.DefaultTasks, options.Analyze.MaxParallelModelTasks));
    }

    [Theory]
    [InlineData("Classification:TopK", "0")]
    [InlineData("Classification:MinConfidence", "-0.1")]
    [InlineData("Classification:Model", " ")]
    [InlineData("Faces:MinConfidence", "7")]
    [InlineData("Faces:MaxFaces", "0")]
    [InlineData("Info:PaletteSize", "99")]
    [InlineData("Info:BlurThreshold", "-1")]
    [InlineData("Analyze:MaxParallelModelTasks", "0")]
    public void An_out_of_range_vision_value_is_rejected_with_a_message_naming_the_key(string key, string value)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load((key, value)));
        Assert.Contains(key, error.Message);
    }
}

public class AnalyzeDefaultTasksTests
{
    [Fact]
    public async Task An_unknown_default_task_stops_the_server_with_exit_code_2_naming_the_key()
    {
        using var cache = new Iris.Tests.Support.TempDirectory();
        var outcome = await Iris.Tests.Support.IrisProcess.RunAsync(
            ["serve", "--urls", "http://127.0.0.1:0", "--model-cache", cache.Path, "--set", "Analyze:DefaultTasks=detect,colours"]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("Analyze:DefaultTasks", outcome.StandardError);
        Assert.Contains("Valid tasks: classify, describe, detect, faces, info, moderate, ocr", outcome.StandardError);
    }
}
