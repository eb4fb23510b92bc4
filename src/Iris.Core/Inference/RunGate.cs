using System.Diagnostics;
using Iris.Core.Telemetry;

namespace Iris.Core.Inference;

/// <summary>
/// Bounds how many ONNX Runtime runs of one model execute at once (<c>Inference:MaxConcurrentRuns</c>; no bound when
/// 0). Requests beyond the bound wait here instead of oversubscribing the cores inside ONNX Runtime, whose sessions
/// already use several threads per run. Every run passes through here, so this is also where run time and waiting
/// time are measured (<see cref="IrisMetrics"/>), tagged with the model and the stage.
/// </summary>
public sealed class RunGate(int maxConcurrentRuns, string model, string stage) : IDisposable
{
    private readonly SemaphoreSlim? _slots = maxConcurrentRuns > 0 ? new SemaphoreSlim(maxConcurrentRuns, maxConcurrentRuns) : null;
    private readonly TagList _tags = new() { { "model", model }, { "stage", stage } };

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        var waiting = Stopwatch.GetTimestamp();
        if (_slots is not null) await _slots.WaitAsync(cancellationToken);
        IrisMetrics.ModelRunWait.Record(Stopwatch.GetElapsedTime(waiting).TotalSeconds, _tags);
        IrisMetrics.ModelRunsActive.Add(1, _tags);
        return new Slot(_slots, _tags, Stopwatch.GetTimestamp());
    }

    public void Dispose() => _slots?.Dispose();

    public readonly struct Slot(SemaphoreSlim? slots, TagList tags, long entered) : IDisposable
    {
        public void Dispose()
        {
            IrisMetrics.ModelRunDuration.Record(Stopwatch.GetElapsedTime(entered).TotalSeconds, tags);
            IrisMetrics.ModelRunsActive.Add(-1, tags);
            slots?.Release();
        }
    }
}
