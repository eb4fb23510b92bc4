namespace Iris.Bench.Throughput;

/// <summary>One measured window of one scenario at one number of callers.</summary>
public sealed record LoadResult(
    string Scenario,
    int Callers,
    int Completed,
    TimeSpan Elapsed,
    (int Slowest, int Fastest)? ImagesPerSecondRange,
    IReadOnlyList<double> SortedLatenciesMs,
    StageTimings? MeanStages,
    double CpuPercent,
    double? OtherProcessesCpuPercent,
    int Gen2Collections,
    TimeSpan GcPause,
    long PeakWorkingSetBytes)
{
    public double ImagesPerSecond => Completed / Elapsed.TotalSeconds;

    /// <summary>Requests answered 429 or 503 (overload), not in <see cref="Completed"/> nor in the latencies.</summary>
    public int Refused { get; init; }

    /// <summary>CPU time per image of a server in another process (the peer), measured from that process; null for Iris.</summary>
    public double? ServerCpuMsPerImage { get; init; }

    /// <summary>Share of the window in which the runtime had every managed thread stopped for a collection.</summary>
    public double GcPausePercent => 100 * GcPause / Elapsed;

    public double MeanLatencyMs => SortedLatenciesMs.Count == 0 ? double.NaN : SortedLatenciesMs.Average();

    /// <summary>Nearest-rank percentile: the smallest latency that at least <paramref name="percent"/>% of requests did not exceed.</summary>
    public double LatencyPercentileMs(double percent)
    {
        if (SortedLatenciesMs.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(percent / 100 * SortedLatenciesMs.Count);
        return SortedLatenciesMs[Math.Clamp(rank - 1, 0, SortedLatenciesMs.Count - 1)];
    }
}
