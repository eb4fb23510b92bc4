using System.Diagnostics;

namespace Iris.Core.Inference;

/// <summary>
/// The models one pipeline call is using, so that <see cref="ModelRuntime"/> never disposes a model between the moment a
/// call got it and the end of its run (an idle unload or a memory-budget eviction waits for the last user). Every model
/// <see cref="ModelRuntime.GetAsync{T}"/> hands out while a scope is open (in that call's async flow, sub-tasks included)
/// is held until the scope is disposed. Outside a scope a model is only marked as used, so callers that run models
/// outside <see cref="Iris.Core.Tasks.ImageAnalyzer"/> open one (<c>using var use = ModelUse.Begin();</c>).
/// </summary>
/// <remarks>
/// Ambient rather than a lease passed along, because a model reaches its run through task delegates
/// (<see cref="Iris.Core.Tasks.PreparedTask"/>) that are built before the image is decoded and may never run when the
/// decode fails; the scope releases them whatever happened.
/// </remarks>
public sealed class ModelUse : IDisposable
{
    private static readonly AsyncLocal<ModelUse?> Current = new();
    private static int _openCalls;
    private static long _lastConcurrent;

    private readonly ModelUse? _outer;
    private readonly List<Action> _releases = [];
    private bool _disposed;

    private ModelUse(ModelUse? outer) => _outer = outer;

    /// <summary>Pipeline calls in progress in the process (outermost scopes): image work that decodes, prepares or runs now.</summary>
    public static int OpenCalls => Volatile.Read(ref _openCalls);

    /// <summary>
    /// Whether the call asking has had the process to itself for <paramref name="quiet"/>: at most one call open now, and
    /// none beside another (nor runs of two models at once, <see cref="NoteConcurrency"/>) within that time. A lone caller's runs
    /// get a spinning pool (<see cref="RunGate"/>); the time keeps a server under concurrent load from taking the gaps
    /// between its requests for a lone caller.
    /// </summary>
    public static bool IsSole(TimeSpan quiet) =>
        OpenCalls <= 1 && Stopwatch.GetElapsedTime(Volatile.Read(ref _lastConcurrent)) >= quiet;

    /// <summary>Two pieces of work ran side by side just now.</summary>
    internal static void NoteConcurrency() => Volatile.Write(ref _lastConcurrent, Stopwatch.GetTimestamp());

    /// <summary>Opens a scope in the caller's async flow; dispose it when the call's runs are over.</summary>
    public static ModelUse Begin()
    {
        var use = new ModelUse(Current.Value);
        if (use._outer is null && Interlocked.Increment(ref _openCalls) > 1) NoteConcurrency();
        Current.Value = use;
        return use;
    }

    /// <summary>Holds <paramref name="release"/> until the open scope ends; false when no scope is open.</summary>
    internal static bool TryHold(Action release)
    {
        var use = Current.Value;
        if (use is null) return false;
        lock (use._releases)
        {
            if (use._disposed) return false;
            use._releases.Add(release);
        }
        return true;
    }

    public void Dispose()
    {
        if (ReferenceEquals(Current.Value, this)) Current.Value = _outer;
        Action[] releases;
        lock (_releases)
        {
            if (_disposed) return;
            _disposed = true;
            if (_outer is null) Interlocked.Decrement(ref _openCalls);
            releases = [.. _releases];
            _releases.Clear();
        }
        foreach (var release in releases) release();
    }
}
