using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using Iris.Core.Inference;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Bench.Throughput;

/// <summary>The results of one <c>http</c> run as Markdown: the throughput table, where the time went, and the goal.</summary>
public sealed class ThroughputReport
{
    /// <summary>HTTP at this many callers should reach at least <see cref="GoalRatio"/> of the raw session's throughput.</summary>
    public const int GoalCallers = 4;
    public const double GoalRatio = 0.85;

    /// <summary>Other processes' CPU share above which a measurement is flagged as disturbed.</summary>
    private const double DisturbedAbovePercent = 5;

    public required DateTimeOffset Date { get; init; }
    public required string Arguments { get; init; }
    public required string ImagePath { get; init; }
    public required InferenceSettings InProcessInference { get; init; }
    public required InferenceSettings ServerInference { get; init; }
    public required LoadResult Raw { get; init; }

    /// <summary>The raw loop measured once more after the HTTP phases.</summary>
    public required LoadResult RawAgain { get; init; }

    /// <summary>The raw loop with a single intra-op thread: a floor that the raw reference must beat when it has more.</summary>
    public required LoadResult RawOneThread { get; init; }
    public required LoadResult Pipeline { get; init; }
    public required IReadOnlyList<LoadResult> Http { get; init; }

    /// <summary>Raw windows further apart than this say that the machine's speed changed during the run.</summary>
    private const double RawDriftTolerance = 0.15;

    private IEnumerable<(LoadResult Result, bool OverHttp)> Rows =>
        [(Raw, false), (RawOneThread, false), (Pipeline, false), .. Http.Select(h => (h, true)), (RawAgain, false)];

    /// <summary>
    /// The faster raw window. A slower one means the model got less CPU than the machine can give (on a shared VM, a vCPU
    /// taken by the host), which would flatter every ratio.
    /// </summary>
    public LoadResult Reference => RawAgain.ImagesPerSecond > Raw.ImagesPerSecond ? RawAgain : Raw;

    public double RatioToRaw(LoadResult result) => result.ImagesPerSecond / Reference.ImagesPerSecond;

    private bool RawDrifted =>
        Math.Abs(Raw.ImagesPerSecond - RawAgain.ImagesPerSecond) > RawDriftTolerance * Reference.ImagesPerSecond;

    /// <summary>
    /// Below this speed-up of all intra-op threads over one, the extra cores were probably not really there (on a shared VM,
    /// the host running another guest on them); YOLOX-Nano gains about 1.6× from a second core when it has one.
    /// </summary>
    private const double MinimumThreadSpeedup = 1.2;

    private double ThreadSpeedup => Reference.ImagesPerSecond / RawOneThread.ImagesPerSecond;

    /// <summary>The reference then is too low and every ratio flatters Iris.</summary>
    private bool CoresMissing =>
        InProcessInference.IntraOpThreads != 1 && Environment.ProcessorCount > 1 && ThreadSpeedup < MinimumThreadSpeedup;

    private bool ReferenceUncertain => RawDrifted || CoresMissing;

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Iris throughput, YOLOX-Nano, {Date:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {DescribeMachine()}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Arguments: `{Arguments}`; image `{Path.GetFileName(ImagePath)}`");
        md.AppendLine($"- Raw and in-process inference: {Describe(InProcessInference)}");
        md.AppendLine($"- Server inference: {Describe(ServerInference)}{(ServerInference == InProcessInference ? " (the same)" : "")}");
        md.AppendLine($"- GC: {(GCSettings.IsServerGC ? "server" : "workstation")}");
        md.AppendLine();

        md.AppendLine("| Scenario | Callers | Images | Images/s | Slowest–fastest second | p50 ms | p99 ms | × raw | CPU % | Other CPU % | Peak WS MiB |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (r, _) in Rows)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Callers} | {r.Completed} | {r.ImagesPerSecond:F1} | {FormatRange(r.ImagesPerSecondRange)} | {r.LatencyPercentileMs(50):F1} | {r.LatencyPercentileMs(99):F1} " +
                $"| {RatioToRaw(r):F2} | {r.CpuPercent:F0} | {Format(r.OtherProcessesCpuPercent, "F0")} | {r.PeakWorkingSetBytes / 1048576.0:F0} |");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"*× raw*: images/s ÷ the faster raw window ({Reference.ImagesPerSecond:F1} images/s). ") +
            "*CPU %*: this process (load generator and server together) as a share of all cores; *Other CPU %*: every other " +
            "process on the machine meanwhile; *Slowest–fastest second*: images completed in the slowest and fastest whole second of the window.");
        if (RawDrifted)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"**Warning:** the two raw windows differ by more than {RawDriftTolerance:P0} ({Raw.ImagesPerSecond:F1} and {RawAgain.ImagesPerSecond:F1} images/s): " +
                $"the CPU available to this process changed during the run, so the ratios are uncertain. Run again."));
        if (CoresMissing)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"**Warning:** the raw session was only {ThreadSpeedup:F2}× faster with all its intra-op threads ({Reference.ImagesPerSecond:F1} images/s) " +
                $"than with one ({RawOneThread.ImagesPerSecond:F1}): the cores were probably not all available, so the ratios may flatter Iris. Run again."));
        if (Rows.Max(row => row.Result.OtherProcessesCpuPercent ?? 0) is var busiest and > DisturbedAbovePercent)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"**Warning:** other processes used up to {busiest:F0}% of the machine during a measurement; those rows understate Iris. Run again on a quiet machine.");
        md.AppendLine();

        md.AppendLine("Where the time went, mean ms per image (stages as Iris reports them in `timings_ms`; *queued* = handler time outside the stages, mostly the run gate; *HTTP + client* = client latency − handler time; *GC pause* = share of the window with managed threads stopped for a collection):");
        md.AppendLine();
        md.AppendLine("| Scenario | Callers | Decode | Preprocess | Inference | Postprocess | Queued | HTTP + client | Latency | Gen2 GCs | GC pause % |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (r, overHttp) in Rows)
        {
            var s = r.MeanStages;
            var httpAndClient = overHttp && s is { } stages ? Format(r.MeanLatencyMs - stages.Total) : "–";
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Callers} | {Format(s?.Decode)} | {Format(s?.Preprocess)} | {Format(s?.Inference ?? r.MeanLatencyMs)} " +
                $"| {Format(s?.Postprocess)} | {Format(s?.Queued)} | {httpAndClient} | {r.MeanLatencyMs:F1} | {r.Gen2Collections} | {r.GcPausePercent:F1} |");
        }
        md.AppendLine();
        md.AppendLine(GoalVerdict());
        return md.ToString();
    }

    public string GoalVerdict()
    {
        var atGoal = Http.FirstOrDefault(r => r.Callers == GoalCallers);
        if (atGoal is null)
            return $"Goal (HTTP at {GoalCallers} callers ≥ {GoalRatio:F2}× raw): not measured in this run.";
        var ratio = RatioToRaw(atGoal);
        return string.Create(CultureInfo.InvariantCulture,
            $"Goal (HTTP at {GoalCallers} callers ≥ {GoalRatio:F2}× raw): **{(ratio >= GoalRatio ? "met" : "not met")}** — " +
            $"{atGoal.ImagesPerSecond:F1} vs {Reference.ImagesPerSecond:F1} images/s = {ratio:F2}×{(ReferenceUncertain ? " (uncertain: see the warnings above)" : "")}.");
    }

    private static string Describe(InferenceSettings s) =>
        $"IntraOpThreads={s.IntraOpThreads} InterOpThreads={s.InterOpThreads} MaxConcurrentRuns={s.MaxConcurrentRuns} {s.GraphOptimization} {s.ExecutionMode}";

    private static string FormatRange((int Slowest, int Fastest)? range) =>
        range is (var slowest, var fastest) ? $"{slowest}–{fastest}" : "–";

    private static string Format(double? value, string format = "F1") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string DescribeMachine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{Environment.ProcessorCount} cores{(cpu is null ? "" : $" ({cpu})")}, {RuntimeInformation.OSDescription}, " +
               $".NET {Environment.Version}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}";
    }
}
