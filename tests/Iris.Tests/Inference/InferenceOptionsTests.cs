using Iris.Configuration;
using Iris.Core.Inference;

namespace Iris.Tests.Inference;

public sealed class InferenceOptionsTests
{
    private static IrisOptions Load(params (string Key, string Value)[] values) =>
        IrisConfiguration.Load(IrisConfiguration.Build(overrides: values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))));

    [Fact]
    public void The_defaults_are_auto_threads_one_run_per_core_a_two_second_queue_and_no_spinning()
    {
        var settings = Load().InferenceSettings();
        Assert.Equal(0, settings.IntraOpThreads);
        Assert.Equal(CpuBudget.Process.Cores, settings.Threads);
        Assert.Equal(CpuBudget.Process.Cores, settings.RunLimits.MaxConcurrent);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.RunLimits.MaxQueueWait);
        Assert.False(settings.Spinning);
    }

    [Fact]
    public void Adaptive_sessions_are_on_by_default_and_turned_off_by_their_option()
    {
        Assert.True(Load().InferenceSettings().AdaptiveSessions);
        Assert.False(Load(("Inference:AdaptiveSessions", "false")).InferenceSettings().AdaptiveSessions);
    }

    [Fact]
    public void A_queue_wait_of_zero_means_no_bound()
    {
        Assert.Null(Load(("Inference:MaxQueueWaitMs", "0")).InferenceSettings().MaxQueueWait);
    }

    [Theory]
    [InlineData("Inference:MaxQueueWaitMs", "-1")]
    [InlineData("Inference:MaxConcurrentRuns", "-1")]
    [InlineData("Inference:IntraOpThreads", "5000")]
    [InlineData("Inference:AdaptiveSessions", "sometimes")]
    public void A_bad_inference_setting_is_refused_naming_it(string key, string value)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load((key, value)));
        Assert.Contains(key, error.Message);
    }
}
