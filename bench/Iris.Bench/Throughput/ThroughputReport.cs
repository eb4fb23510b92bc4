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
    public const double GoalRatio = 0.9;

    /// <summary>HTTP at one caller should add at most this to the in-process pipeline's latency.</summary>
    public const double GoalHttpOverheadMs = 3;

    /// <summary>Iris at <see cref="GoalCallers"/> should serve this many times the peer's images/s.</summary>
    public const double GoalPeerRatio = 3;

    /// <summary>Other processes' CPU share above which a measurement is flagged as disturbed.</summary>
    private const double DisturbedAbovePercent = 5;

    public required DateTimeOffset Date { get; init; }
    public required string Arguments { get; init; }
    public required string ImagePath { get; init; }
    public required InferenceSettings RawInference { get; init; }
    public required InferenceSettings InProcessInference { get; init; }
    public required InferenceSettings ServerInference { get; init; }
    public required LoadResult Raw { get; init; }

    /// <summary>The raw loop measured once more after the HTTP phases.</summary>
    public required LoadResult RawAgain { get; init; }

    /// <summary>The raw loop with a single intra-op thread: a floor that the raw reference must beat when it has more.</summary>
    public required LoadResult RawOneThread { get; init; }

    /// <summary>
    /// ONNX Runtime's own ceiling under concurrency, for reading the HTTP rows, not the reference: the reference session
    /// and a one-thread session, each at several callers on the same ready tensor (no decode, no HTTP).
    /// </summary>
    public IReadOnlyList<LoadResult> RawConcurrent { get; init; } = [];
    public required LoadResult Pipeline { get; init; }
    public required IReadOnlyList<LoadResult> Http { get; init; }

    /// <summary>The peer's /v1/detect at the same concurrencies; empty when no peer was given.</summary>
    public IReadOnlyList<LoadResult> Peer { get; init; } = [];

    /// <summary>Each analyze task alone at one caller, then all of them together.</summary>
    public IReadOnlyList<LoadResult> SingleTasks { get; init; } = [];
    public IReadOnlyList<LoadResult> Analyze { get; init; } = [];

    /// <summary>One answer per server on the image, to compare detections.</summary>
    public IReadOnlyDictionary<string, string> Detections { get; init; } = new Dictionary<string, string>();

    /// <summary>Raw windows further apart than this say that the machine's speed changed during the run.</summary>
    private const double RawDriftTolerance = 0.15;

    private IEnumerable<(LoadResult Result, bool OverHttp)> Rows =>
        [(Raw, false), (RawOneThread, false), .. RawConcurrent.Select(r => (r, false)), (Pipeline, false), .. Http.Select(h => (h, true)), .. Peer.Select(p => (p, false)), (RawAgain, false)];

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
        RawInference.IntraOpThreads != 1 && Environment.ProcessorCount > 1 && ThreadSpeedup < MinimumThreadSpeedup;

    private bool ReferenceUncertain => RawDrifted || CoresMissing;

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Iris throughput, YOLOX-Nano, {Date:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {DescribeMachine()}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Arguments: `{Arguments}`; image `{Path.GetFileName(ImagePath)}`");
        md.AppendLine($"- Raw session.Run: {Describe(RawInference)}");
        md.AppendLine($"- In-process pipeline: {Describe(InProcessInference)}");
        md.AppendLine($"- Server inference: {Describe(ServerInference)}{(ServerInference == InProcessInference ? " (the same)" : "")}");
        md.AppendLine($"- GC: {(GCSettings.IsServerGC ? "server" : "workstation")}");
        md.AppendLine();

        md.AppendLine("| Scenario | Callers | Images | Refused (429/503) | Images/s | Slowest–fastest second | p50 ms | p99 ms | × raw | CPU % | CPU ms per image | Other CPU % | Peak WS MiB |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (r, _) in Rows)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Callers} | {r.Completed} | {r.Refused} | {r.ImagesPerSecond:F1} | {FormatRange(r.ImagesPerSecondRange)} | {r.LatencyPercentileMs(50):F1} | {r.LatencyPercentileMs(99):F1} " +
                $"| {RatioToRaw(r):F2} | {r.CpuPercent:F0} | {CpuMsPerImage(r)} | {Format(r.OtherProcessesCpuPercent, "F0")} | {r.PeakWorkingSetBytes / 1048576.0:F0} |");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"*× raw*: images/s ÷ the faster raw window ({Reference.ImagesPerSecond:F1} images/s). ") +
            "*CPU %*: this process (load generator and server together) as a share of all cores; *Other CPU %*: every other " +
            "process on the machine meanwhile; *Slowest–fastest second*: images completed in the slowest and fastest whole second of the window; " +
            "*CPU ms per image*: this process's CPU time per image (load generator included); for the peer, the peer's process alone (with --peer-pid): " +
            "unlike images/s it hardly depends on how much of the machine others take, so it compares policies on a busy machine." +
            (RawConcurrent.Count > 0
                ? " The raw rows at more than one caller are ONNX Runtime alone on a ready tensor under that concurrency: the ceiling of a server that must also decode, not the reference."
                : ""));
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
        AppendAnalyze(md);
        foreach (var (server, body) in Detections)
            md.AppendLine(CultureInfo.InvariantCulture, $"Detections on `{Path.GetFileName(ImagePath)}`, {server}: {DescribeDetections(body)}").AppendLine();
        md.AppendLine(GoalVerdict());
        md.AppendLine();
        md.AppendLine(LatencyVerdict());
        md.AppendLine();
        md.AppendLine(BudgetVerdict());
        if (Peer.Count > 0)
        {
            md.AppendLine();
            md.AppendLine(PeerVerdict());
        }
        return md.ToString();
    }

    private void AppendAnalyze(StringBuilder md)
    {
        if (Analyze.Count == 0) return;
        md.AppendLine("`/v1/analyze`: each task alone (one caller; *task ms* = its `timings_ms` entry, no decode), then all of them in one request:");
        md.AppendLine();
        md.AppendLine("| Scenario | Callers | Images | Refused (429/503) | Images/s | p50 ms | p99 ms | Decode ms | Task ms | CPU % | Other CPU % |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in SingleTasks.Concat(Analyze))
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Callers} | {r.Completed} | {r.Refused} | {r.ImagesPerSecond:F1} | {r.LatencyPercentileMs(50):F1} | {r.LatencyPercentileMs(99):F1} " +
                $"| {Format(r.MeanStages?.Decode)} | {Format(r.MeanStages?.Inference)} | {r.CpuPercent:F0} | {Format(r.OtherProcessesCpuPercent, "F0")} |");
        var sum = SingleTasks.Sum(t => t.MeanStages?.Inference ?? double.NaN);
        var atMost = Analyze.Max(a => a.Callers);
        var busiest = Analyze.First(a => a.Callers == atMost);
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Sum of the single-task times: {sum:F1} ms per image, i.e. {1000 / sum:F1} images/s if the tasks ran one after another on an idle " +
            $"server; `/v1/analyze` with all four at {atMost} callers: {busiest.ImagesPerSecond:F1} images/s = **{busiest.ImagesPerSecond * sum / 1000:F2}×** that."));
        md.AppendLine();
    }

    public string LatencyVerdict()
    {
        var single = Http.FirstOrDefault(r => r.Callers == 1);
        if (single is null) return "Goal (HTTP at 1 caller within 3 ms of the in-process pipeline): not measured in this run.";
        var gap = single.LatencyPercentileMs(50) - Pipeline.LatencyPercentileMs(50);
        return string.Create(CultureInfo.InvariantCulture,
            $"Goal (HTTP at 1 caller within {GoalHttpOverheadMs:F0} ms of the in-process pipeline, p50): **{(gap <= GoalHttpOverheadMs ? "met" : "not met")}** — " +
            $"{single.LatencyPercentileMs(50):F1} vs {Pipeline.LatencyPercentileMs(50):F1} ms = {gap:+0.0;-0.0} ms.");
    }

    public string PeerVerdict()
    {
        var iris = Http.FirstOrDefault(r => r.Callers == GoalCallers);
        var peer = Peer.FirstOrDefault(r => r.Callers == GoalCallers);
        if (iris is null || peer is null) return $"Goal (Iris ≥ {GoalPeerRatio:F0}× the peer at {GoalCallers} callers): not measured in this run.";
        var ratio = iris.ImagesPerSecond / peer.ImagesPerSecond;
        var lowerP99 = iris.LatencyPercentileMs(99) < peer.LatencyPercentileMs(99);
        return string.Create(CultureInfo.InvariantCulture,
            $"Goal (Iris ≥ {GoalPeerRatio:F0}× the peer's images/s at {GoalCallers} callers, lower p99): **{(ratio >= GoalPeerRatio && lowerP99 ? "met" : "not met")}** — " +
            $"{iris.ImagesPerSecond:F1} vs {peer.ImagesPerSecond:F1} images/s = {ratio:F2}×; p99 {iris.LatencyPercentileMs(99):F1} vs {peer.LatencyPercentileMs(99):F1} ms.");
    }

    /// <summary>"dog 0.855 [133,207,326,543]; …" from a detect answer.</summary>
    private static string DescribeDetections(string body)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            var objects = document.RootElement.GetProperty("objects").EnumerateArray().Select(o =>
            {
                var b = o.GetProperty("box");
                return string.Create(CultureInfo.InvariantCulture,
                    $"{o.GetProperty("label").GetString()} {o.GetProperty("confidence").GetDouble():F3} [{b.GetProperty("x_min").GetDouble():F1}, " +
                    $"{b.GetProperty("y_min").GetDouble():F1}, {b.GetProperty("x_max").GetDouble():F1}, {b.GetProperty("y_max").GetDouble():F1}]");
            });
            return string.Join("; ", objects);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "unreadable answer: " + body[..Math.Min(200, body.Length)];
        }
    }

    public string GoalVerdict()
    {
        var atGoal = Http.FirstOrDefault(r => r.Callers == GoalCallers);
        if (atGoal is null)
            return $"Goal (HTTP at {GoalCallers} callers ≥ {GoalRatio:F2}× raw): not measured in this run.";
        var ratio = RatioToRaw(atGoal);
        var ceilings = string.Concat(RawConcurrent.Where(r => r.Callers == GoalCallers).Select(r => string.Create(CultureInfo.InvariantCulture,
            $" Against {r.Scenario} at {r.Callers} callers ({r.ImagesPerSecond:F1} images/s): {atGoal.ImagesPerSecond / r.ImagesPerSecond:F2}×.")));
        return string.Create(CultureInfo.InvariantCulture,
            $"Goal (HTTP at {GoalCallers} callers ≥ {GoalRatio:F2}× raw): **{(ratio >= GoalRatio ? "met" : "not met")}** — " +
            $"{atGoal.ImagesPerSecond:F1} vs {Reference.ImagesPerSecond:F1} images/s = {ratio:F2}×{(ReferenceUncertain ? " (uncertain: see the warnings above)" : "")}.{ceilings}");
    }

    private static string Describe(InferenceSettings s) =>
        $"IntraOpThreads={s.IntraOpThreads} InterOpThreads={s.InterOpThreads} MaxConcurrentRuns={s.MaxConcurrentRuns} " +
        $"MaxQueueWait={(s.MaxQueueWait is { } w ? $"{w.TotalMilliseconds:F0} ms" : "none")} Spinning={s.Spinning} {s.GraphOptimization} {s.ExecutionMode}; " +
        $"{s.Cpu.Cores} cores ({s.Cpu.Source}): {s.Threads} threads{(s.IntraOpThreads == 0 && OnnxSessionFactory.SharedThreads > 0 ? " in the process-wide pool" : " per session")}, {s.RunLimits.MaxConcurrent} runs at once";

    private static string CpuMsPerImage(LoadResult r) =>
        r.ServerCpuMsPerImage is { } server ? server.ToString("F1", CultureInfo.InvariantCulture) + " (server only)"
        : r.Scenario.StartsWith("peer", StringComparison.Ordinal) || r.ImagesPerSecond <= 0 ? "–"
        : (r.CpuPercent / 100 * Environment.ProcessorCount * 1000 / r.ImagesPerSecond).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>Overload answers: the busiest HTTP row's p99 against the wait a run may have at its model.</summary>
    public string BudgetVerdict()
    {
        var busiest = Http.MaxBy(r => r.Callers);
        if (busiest is null) return "";
        var budget = ServerInference.MaxQueueWait;
        var within = budget is { } limit && busiest.Refused == 0 && busiest.LatencyPercentileMs(99) < limit.TotalMilliseconds;
        var bound = budget is { } b ? b.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) + " ms" : "no bound";
        return string.Create(CultureInfo.InvariantCulture,
            $"Overload (Inference:MaxQueueWaitMs = {bound}): at {busiest.Callers} callers p99 {busiest.LatencyPercentileMs(99):F1} ms, " +
            $"{busiest.Refused} of {busiest.Completed + busiest.Refused} requests answered 429/503") +
            (within ? " (the queue stayed within the budget, so nothing needed refusing)." : ".");
    }

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
