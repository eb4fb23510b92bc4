using System.Diagnostics;

namespace Iris.Bench.Throughput;

/// <summary>
/// Closed-loop load: each caller sends its next request as soon as the previous one is answered, so the
/// throughput is what the system sustains with exactly that many requests in flight. A warm-up phase runs
/// first with the same callers and is thrown away (JIT, ONNX Runtime's first runs, connection set-up).
/// </summary>
public static class ClosedLoop
{
    /// <summary>One request; returns the server's own stage timings where the scenario has them.</summary>
    public delegate ValueTask<StageTimings?> Operation(CancellationToken cancellationToken);

    /// <summary>One answer; <paramref name="Refused"/>: 429 or 503, not counted as an image.</summary>
    private readonly record struct Sample(double LatencyMs, TimeSpan CompletedAt, StageTimings? Stages, bool Refused = false);

    /// <summary>Load that is thrown away, at <paramref name="callers"/>, for <paramref name="duration"/>: lets the JIT finish before anything is measured.</summary>
    public static async Task SettleAsync(int callers, TimeSpan duration, Operation operation, CancellationToken cancellationToken)
    {
        if (duration > TimeSpan.Zero) await RunPhaseAsync(callers, duration, operation, cancellationToken);
    }

    public static async Task<LoadResult> RunAsync(
        string scenario, int callers, TimeSpan warmUp, TimeSpan duration, Operation operation, CancellationToken cancellationToken,
        System.Diagnostics.Process? server = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(callers, 1);
        await RunPhaseAsync(callers, warmUp, operation, cancellationToken);

        server?.Refresh();
        var serverBefore = server?.TotalProcessorTime;
        var before = ResourceCounters.Read();
        var (elapsed, samples) = await RunPhaseAsync(callers, duration, operation, cancellationToken);
        var after = ResourceCounters.Read();
        server?.Refresh();
        var serverCpu = server?.TotalProcessorTime - serverBefore;

        var refused = samples.Count(s => s.Refused);
        samples = samples.Where(s => !s.Refused).ToList();
        var latencies = samples.Select(s => s.LatencyMs).Order().ToArray();
        var stages = StageTimings.Mean(samples.Where(s => s.Stages.HasValue).Select(s => s.Stages!.Value).ToList());
        return new LoadResult(scenario, callers, samples.Count, elapsed, PerSecondRange(samples, elapsed), latencies, stages,
            after.ProcessCpuPercentSince(before, elapsed), after.OtherCpuPercentSince(before, elapsed),
            after.Gen2Collections - before.Gen2Collections, after.GcPause - before.GcPause, after.PeakWorkingSetBytes)
        {
            Refused = refused,
            ServerCpuMsPerImage = serverCpu is { } cpu && samples.Count > 0 ? cpu.TotalMilliseconds / samples.Count : null,
        };
    }

    /// <summary>
    /// Images completed in the slowest and the fastest whole second of the window. A wide range on a quiet machine
    /// means the CPU itself was not steadily available (on a shared VM, the host scheduling the vCPUs elsewhere).
    /// </summary>
    private static (int Slowest, int Fastest)? PerSecondRange(List<Sample> samples, TimeSpan elapsed)
    {
        var wholeSeconds = (int)elapsed.TotalSeconds;
        if (wholeSeconds < 2) return null;
        var perSecond = new int[wholeSeconds];
        foreach (var sample in samples)
            if ((int)sample.CompletedAt.TotalSeconds is var second && second < wholeSeconds)
                perSecond[second]++;
        return (perSecond.Min(), perSecond.Max());
    }

    private static async Task<(TimeSpan Elapsed, List<Sample> Samples)> RunPhaseAsync(
        int callers, TimeSpan duration, Operation operation, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // Each caller is its own thread-pool work item so that a synchronous operation (session.Run) still
        // leaves the other callers free to run.
        var perCaller = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            var samples = new List<Sample>();
            while (Stopwatch.GetElapsedTime(started) < duration)
            {
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    var stages = await operation(cancellationToken);
                    samples.Add(new Sample(Stopwatch.GetElapsedTime(sent).TotalMilliseconds, Stopwatch.GetElapsedTime(started), stages));
                }
                catch (RefusedRequestException)
                {
                    samples.Add(new Sample(Stopwatch.GetElapsedTime(sent).TotalMilliseconds, Stopwatch.GetElapsedTime(started), null, Refused: true));
                }
            }
            return samples;
        }, cancellationToken)));
        // Callers finish the request in flight at the deadline, so the window is measured to the last answer.
        return (Stopwatch.GetElapsedTime(started), perCaller.SelectMany(s => s).ToList());
    }
}
