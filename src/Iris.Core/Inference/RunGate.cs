using System.Diagnostics;
using Iris.Core.Telemetry;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Inference;

/// <summary>
/// Bounds how many ONNX Runtime runs of one model execute at once (<c>Inference:MaxConcurrentRuns</c>; no bound when
/// 0). Requests beyond the bound wait here instead of oversubscribing the cores inside ONNX Runtime, whose sessions
/// already use several threads per run. Every run passes through here, so this is also where run time and waiting
/// time are measured (<see cref="IrisMetrics"/>, and a <c>model.run</c> span), tagged with the model and the stage.
/// </summary>
public sealed class RunGate(int maxConcurrentRuns, string model, string stage) : IDisposable
{
    private readonly SemaphoreSlim? _slots = maxConcurrentRuns > 0 ? new SemaphoreSlim(maxConcurrentRuns, maxConcurrentRuns) : null;
    private readonly TagList _tags = new() { { "model", model }, { "stage", stage } };

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        // The span covers the wait too, so a trace shows time lost to the concurrency bound.
        var activity = IrisTracing.Source.StartActivity("model.run");
        activity?.SetTag("iris.model", model).SetTag("iris.stage", stage);
        var waiting = Stopwatch.GetTimestamp();
        try
        {
            if (_slots is not null) await _slots.WaitAsync(cancellationToken);
        }
        catch
        {
            activity?.Dispose();
            throw;
        }
        var waited = Stopwatch.GetElapsedTime(waiting).TotalSeconds;
        IrisMetrics.ModelRunWait.Record(waited, _tags);
        activity?.SetTag("iris.wait_seconds", waited);
        IrisMetrics.ModelRunsActive.Add(1, _tags);
        return new Slot(_slots, _tags, Stopwatch.GetTimestamp(), activity);
    }

    /// <summary>
    /// One run of a session with a single float input, in a slot. <paramref name="read"/> turns the outputs into the
    /// result while they are still alive (they belong to ONNX Runtime and go when the run ends).
    /// </summary>
    /// <returns>The result, and the milliseconds ONNX Runtime took (neither the wait for a slot nor the reading).</returns>
    public async Task<(T Result, double RunMs)> RunAsync<T>(InferenceSession session, string[] input, Memory<float> tensor, long[] shape,
        string[] outputs, Func<IReadOnlyList<OrtValue>, T> read, CancellationToken cancellationToken)
    {
        using (await EnterAsync(cancellationToken))
        {
            using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, tensor, shape);
            using var runOptions = new RunOptions();
            var started = Stopwatch.GetTimestamp();
            using var results = session.Run(runOptions, input, [value], outputs);
            var runMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return (read(results), runMs);
        }
    }

    public void Dispose() => _slots?.Dispose();

    public readonly struct Slot(SemaphoreSlim? slots, TagList tags, long entered, Activity? activity) : IDisposable
    {
        public void Dispose()
        {
            IrisMetrics.ModelRunDuration.Record(Stopwatch.GetElapsedTime(entered).TotalSeconds, tags);
            IrisMetrics.ModelRunsActive.Add(-1, tags);
            slots?.Release();
            activity?.Dispose();
        }
    }
}
