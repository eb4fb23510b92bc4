using Iris.Configuration;
using Iris.Core.Inference.Batching;

namespace Iris.Tests.Configuration;

public class BatchingConfigurationTests
{
    private static IrisOptions Load(params (string Key, string? Value)[] values) =>
        IrisConfiguration.Load(IrisConfiguration.Build(overrides: values.Select(v => KeyValuePair.Create(v.Key, v.Value))));

    [Fact]
    public void Batching_defaults_are_on_and_match_the_documented_values()
    {
        var settings = Load().Inference.Batching.ToSettings();
        Assert.Equal(new BatchingPolicy(8, TimeSpan.FromMilliseconds(2), 64), settings.For("yolox-nano"));
        Assert.True(settings.For("clip-tiny").Enabled);
    }

    [Fact]
    public void A_model_override_changes_only_that_model_and_inherits_the_rest()
    {
        var settings = Load(("Inference:Batching:Models:yolox-nano:MaxBatch", "16"), ("Inference:Batching:Models:clip-tiny:Enabled", "false"),
            ("Inference:Batching:MaxQueue", "128")).Inference.Batching.ToSettings();
        Assert.Equal(new BatchingPolicy(16, TimeSpan.FromMilliseconds(2), 128), settings.For("yolox-nano"));
        Assert.False(settings.For("clip-tiny").Enabled);
        Assert.Equal(new BatchingPolicy(8, TimeSpan.FromMilliseconds(2), 128), settings.For("another-model"));
    }

    [Fact]
    public void Batching_off_turns_every_model_off()
    {
        var settings = Load(("Inference:Batching:Enabled", "false")).Inference.Batching.ToSettings();
        Assert.False(settings.For("yolox-nano").Enabled);
    }

    [Theory]
    [InlineData("Inference:Batching:MaxBatch", "0")]
    [InlineData("Inference:Batching:MaxDelayMs", "-1")]
    [InlineData("Inference:Batching:MaxQueue", "4")]
    [InlineData("Inference:Batching:Models:yolox-nano:MaxBatch", "1000")]
    public void An_invalid_batching_setting_is_rejected_naming_the_key(string key, string value)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load((key, value)));
        Assert.Contains(key, error.Message);
    }
}
