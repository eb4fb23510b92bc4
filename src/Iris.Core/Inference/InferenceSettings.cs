using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Inference;

/// <summary>
/// How ONNX Runtime sessions are created and how many runs of a model execute at once. Zero thread and run counts mean
/// "auto": sized from the process's <see cref="CpuBudget"/> (see <see cref="OnnxSessionFactory"/> for the policy).
/// </summary>
/// <param name="IntraOpThreads">Threads inside one operator. 0: one process-wide pool of one thread per core, shared by
/// every session; above 0, each session gets its own pool of that many threads (the expert override).</param>
/// <param name="MaxConcurrentRuns">Runs of one model at once. 0: one per core.</param>
/// <param name="MaxQueueWait">How long a run may wait for a slot before it is refused as overload; null: no bound.</param>
/// <param name="Spinning">Let idle pool threads spin for the next operator instead of sleeping.</param>
/// <param name="AdaptiveSessions">With the shared pool and no spinning, on 2+ cores: models that have them
/// (<see cref="OnnxSessionFactory.CreateLoneRun"/>) run on a session whose own pool spins while the process has them to
/// itself, and on one thread per run otherwise (<see cref="OnnxSessionFactory.CreateConcurrentRun(string)"/>).</param>
public sealed record InferenceSettings(
    int IntraOpThreads = 0,
    int InterOpThreads = 0,
    GraphOptimizationLevel GraphOptimization = GraphOptimizationLevel.ORT_ENABLE_ALL,
    ExecutionMode ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    int MaxConcurrentRuns = 0,
    TimeSpan? MaxQueueWait = null,
    bool Spinning = false,
    bool AdaptiveSessions = true)
{
    /// <summary>The cores the "auto" values are sized from; the process's own unless a test says otherwise.</summary>
    public CpuBudget Cpu { get; init; } = CpuBudget.Process;

    /// <summary>Intra-op threads a run may use: the configured count, or one per core.</summary>
    public int Threads => IntraOpThreads > 0 ? IntraOpThreads : Cpu.Cores;

    /// <summary>
    /// Whether the models that support it get a spinning session for lone runs and a single-threaded one for every other run: only
    /// with the shared pool (auto threads), without global spinning, on 2+ cores, and with at least one run per core allowed
    /// (single-threaded runs fewer than the cores would leave cores idle under load).
    /// </summary>
    public bool UsesAdaptiveSessions => AdaptiveSessions && IntraOpThreads == 0 && !Spinning && Cpu.Cores > 1 && RunLimits.MaxConcurrent >= Cpu.Cores;

    /// <summary>What each model's <see cref="RunGate"/> enforces.</summary>
    public RunLimits RunLimits => new(MaxConcurrentRuns > 0 ? MaxConcurrentRuns : Cpu.Cores, MaxQueueWait);
}

/// <summary>
/// A model's run gate: <paramref name="MaxConcurrent"/> runs at once (0: no bound), and a wait for a slot of at most
/// <paramref name="MaxQueueWait"/> (null: no bound) before the run is refused with <see cref="InferenceOverloadedException"/>.
/// </summary>
public readonly record struct RunLimits(int MaxConcurrent, TimeSpan? MaxQueueWait = null)
{
    /// <summary>A bare count, as tools and tests give it: that many runs at once, waiting as long as it takes.</summary>
    public static implicit operator RunLimits(int maxConcurrent) => new(maxConcurrent);
}
