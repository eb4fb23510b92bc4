using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Iris.Bench.Micro;

/// <summary>
/// ShortRun (3 warm-ups, 3 iterations, one launch) keeps the whole suite to a few minutes on 2 cores; pass
/// BenchmarkDotNet's own flags after <c>micro</c> for more (<c>--job Default</c>) or a subset (<c>--filter *Letterbox*</c>).
/// One summary table for the whole suite, so the per-image costs can be read side by side.
/// </summary>
public static class MicroBenchmarkConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.ShortRun)
        .AddDiagnoser(MemoryDiagnoser.Default)
        .WithOptions(ConfigOptions.JoinSummary);
}
