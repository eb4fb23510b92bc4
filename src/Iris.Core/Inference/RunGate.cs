namespace Iris.Core.Inference;

/// <summary>
/// Bounds how many ONNX Runtime runs of one model execute at once (<c>Inference:MaxConcurrentRuns</c>; no bound when
/// 0). Requests beyond the bound wait here instead of oversubscribing the cores inside ONNX Runtime, whose sessions
/// already use several threads per run.
/// </summary>
public sealed class RunGate(int maxConcurrentRuns) : IDisposable
{
    private readonly SemaphoreSlim? _slots = maxConcurrentRuns > 0 ? new SemaphoreSlim(maxConcurrentRuns, maxConcurrentRuns) : null;

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        if (_slots is not null) await _slots.WaitAsync(cancellationToken);
        return new Slot(_slots);
    }

    public void Dispose() => _slots?.Dispose();

    public readonly struct Slot(SemaphoreSlim? slots) : IDisposable
    {
        public void Dispose() => slots?.Release();
    }
}
