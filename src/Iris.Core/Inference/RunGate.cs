using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Iris.Core.Telemetry;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Inference;

/// <summary>
/// Bounds how many ONNX Runtime runs of one model execute at once (<c>Inference:MaxConcurrentRuns</c>; no bound when
/// 0) and how long a run may wait for a slot (<c>Inference:MaxQueueWaitMs</c>). Requests beyond the bound wait here
/// instead of oversubscribing the cores inside ONNX Runtime. A run whose expected wait (the runs queued ahead of it
/// times the recent run time, over the slots) already exceeds the bound is refused at once, and one still waiting when
/// the bound runs out is refused then: <see cref="InferenceOverloadedException"/>, 503 with Retry-After at the HTTP edge,
/// so excess load gets a fast answer instead of a latency beyond the budget. Every run passes through here, so this is
/// also where run time and waiting time are measured (<see cref="IrisMetrics"/>, and a <c>model.run</c> span), tagged
/// with the model and the stage, and where a run that has the process to itself is sent to the model's lone-run session
/// (<see cref="UseLoneRunSession"/>).
/// </summary>
public sealed class RunGate : IDisposable
{
    // Weight of the newest run in the running mean of run times: about the last 10 runs count.
    private const double Smoothing = 0.1;

    private readonly RunLimits _limits;
    private readonly string _model;
    private readonly string _stage;
    private readonly SemaphoreSlim? _slots;
    private readonly TimeProvider _time;
    private readonly TagList _tags;
    private int _waiting;
    private long _meanRunTicks;
    private InferenceSession? _loneRunOf;
    private InferenceSession? _loneRun;

    // Runs in their slots now, across every model's gate: a run that enters when there are none is alone.
    private static int _inFlight;

    // Runs in their slots now, per model, across that model's gates (its stages, its sessions side by side).
    private static readonly ConcurrentDictionary<string, StrongBox<int>> ModelInFlight = new();
    private readonly StrongBox<int> _modelInFlight;

    // How long the process must have served one call at a time before a run counts as alone. Under concurrent load the
    // gaps between requests are milliseconds, so a second keeps their runs off the spinning pool; a lone caller's first
    // request after a burst waits a second for its spinning pool.
    private static readonly TimeSpan LoneQuiet = TimeSpan.FromSeconds(1);

    public RunGate(RunLimits limits, string model, string stage, TimeProvider? time = null)
    {
        _limits = limits;
        _model = model;
        _stage = stage;
        _slots = limits.MaxConcurrent > 0 ? new SemaphoreSlim(limits.MaxConcurrent, limits.MaxConcurrent) : null;
        _time = time ?? TimeProvider.System;
        _tags = new() { { "model", model }, { "stage", stage } };
        _modelInFlight = ModelInFlight.GetOrAdd(model, _ => new StrongBox<int>());
    }

    /// <summary>
    /// From now on, a run of <paramref name="session"/> that enters its slot while no run of any model is in flight and no
    /// other pipeline call is in progress nor was for a second (<see cref="ModelUse.IsSole"/>) runs on
    /// <paramref name="loneRun"/> instead (<see cref="OnnxSessionFactory.CreateLoneRun"/>), which this gate then owns and
    /// disposes. Null leaves every run on <paramref name="session"/>.
    /// </summary>
    public void UseLoneRunSession(InferenceSession session, InferenceSession? loneRun)
    {
        if (loneRun is null) return;
        _loneRunOf = session;
        _loneRun = loneRun;
    }

    /// <summary>The mean time a run held its slot recently; zero before the first run.</summary>
    public TimeSpan MeanRunTime => TimeSpan.FromTicks(Interlocked.Read(ref _meanRunTicks));

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    /// <exception cref="InferenceOverloadedException">The wait would exceed, or did exceed, the limit's queue wait.</exception>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        // The span covers the wait too, so a trace shows time lost to the concurrency bound.
        var activity = IrisTracing.Source.StartActivity("model.run");
        activity?.SetTag("iris.model", _model).SetTag("iris.stage", _stage);
        var waiting = _time.GetTimestamp();
        try
        {
            if (_slots is not null && !_slots.Wait(0, CancellationToken.None))
                await WaitForSlotAsync(_slots, cancellationToken);
        }
        catch
        {
            activity?.Dispose();
            throw;
        }
        var waited = _time.GetElapsedTime(waiting).TotalSeconds;
        IrisMetrics.ModelRunWait.Record(waited, _tags);
        activity?.SetTag("iris.wait_seconds", waited);
        IrisMetrics.ModelRunsActive.Add(1, _tags);
        // Alone: no other run in flight, and no other pipeline call decoding or preparing an image beside this one (a
        // spinning pool would take the core that decode needs), nor any such concurrency in the last second. Runs of
        // one model side by side are either one call's own parallel stage (PP-OCR's recognisers, which never overlap
        // its detector) or other calls' runs, which ModelUse already counts; runs of two models side by side (an
        // analyze call's tasks) compete for the cores, so they count here.
        var others = Interlocked.Increment(ref _inFlight) - 1;
        var sameModel = Interlocked.Increment(ref _modelInFlight.Value) - 1;
        if (others > sameModel) ModelUse.NoteConcurrency();
        var alone = others == 0 && ModelUse.IsSole(LoneQuiet);
        return new Slot(this, _time.GetTimestamp(), activity, alone);
    }

    private async Task WaitForSlotAsync(SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        if (_limits.MaxQueueWait is not { } budget)
        {
            await slots.WaitAsync(cancellationToken);
            return;
        }
        var ahead = Interlocked.Increment(ref _waiting);
        try
        {
            // The queue drains at one run per slot per mean run time; this run is the last of those waiting.
            var expected = MeanRunTime * ahead / _limits.MaxConcurrent;
            if (expected > budget)
                throw Reject("expected_wait", ahead, expected, budget);
            using var timeout = new CancellationTokenSource(budget, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await slots.WaitAsync(linked.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Reject("queue_timeout", ahead, budget, budget);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private InferenceOverloadedException Reject(string reason, int ahead, TimeSpan wait, TimeSpan budget)
    {
        IrisMetrics.InferenceRejected.Add(1, new TagList { { "model", _model }, { "reason", reason } });
        // A client that comes back after about one queue's worth of runs finds room.
        var retryAfter = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(Math.Max(wait.TotalSeconds, MeanRunTime.TotalSeconds))));
        return new InferenceOverloadedException(_model, reason, ahead, wait, budget, retryAfter);
    }

    private void Completed(TimeSpan held)
    {
        // A lost update under contention only drops one sample from the mean.
        var mean = Interlocked.Read(ref _meanRunTicks);
        var next = mean == 0 ? held.Ticks : (long)(mean + Smoothing * (held.Ticks - mean));
        Interlocked.Exchange(ref _meanRunTicks, next);
    }

    /// <summary>
    /// One run of a session with a single float input, in a slot. <paramref name="read"/> turns the outputs into the
    /// result while they are still alive (they belong to ONNX Runtime and go when the run ends).
    /// </summary>
    /// <returns>The result, and the milliseconds ONNX Runtime took (neither the wait for a slot nor the reading).</returns>
    public async Task<(T Result, double RunMs)> RunAsync<T>(InferenceSession session, string[] input, Memory<float> tensor, long[] shape,
        string[] outputs, Func<IReadOnlyList<OrtValue>, T> read, CancellationToken cancellationToken)
    {
        using (var slot = await EnterAsync(cancellationToken))
        {
            if (slot.Alone && _loneRun is not null && ReferenceEquals(session, _loneRunOf))
            {
                session = _loneRun;
                IrisMetrics.ModelLoneRuns.Add(1, _tags);
                slot.Activity?.SetTag("iris.lone_run", true);
            }
            using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, tensor, shape);
            using var runOptions = new RunOptions();
            var started = Stopwatch.GetTimestamp();
            using var results = session.Run(runOptions, input, [value], outputs);
            var runMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return (read(results), runMs);
        }
    }

    public void Dispose()
    {
        _slots?.Dispose();
        _loneRun?.Dispose();
    }

    /// <param name="Alone">No other run of any model was in its slot when this one entered, and no other pipeline call was in progress, nor for the last second.</param>
    public readonly struct Slot(RunGate gate, long entered, Activity? activity, bool alone) : IDisposable
    {
        public bool Alone => alone;

        internal Activity? Activity => activity;

        public void Dispose()
        {
            Interlocked.Decrement(ref _inFlight);
            Interlocked.Decrement(ref gate._modelInFlight.Value);
            var held = gate._time.GetElapsedTime(entered);
            gate.Completed(held);
            IrisMetrics.ModelRunDuration.Record(held.TotalSeconds, gate._tags);
            IrisMetrics.ModelRunsActive.Add(-1, gate._tags);
            gate._slots?.Release();
            activity?.Dispose();
        }
    }
}

/// <summary>
/// A model is busy beyond <c>Inference:MaxQueueWaitMs</c>: the run was refused rather than kept waiting. The same
/// request can succeed after <see cref="RetryAfter"/> (503 with that Retry-After at the HTTP edge).
/// </summary>
public sealed class InferenceOverloadedException(string model, string reason, int waiting, TimeSpan wait, TimeSpan budget, TimeSpan retryAfter)
    : Exception(reason == "expected_wait"
        ? $"Model '{model}' is busy: {waiting} run(s) are waiting for it, an expected wait of {wait.TotalMilliseconds:N0} ms, over the " +
          $"{budget.TotalMilliseconds:N0} ms a run may wait (Inference:MaxQueueWaitMs). Retry after {retryAfter.TotalSeconds:N0} s."
        : $"Model '{model}' is busy: this run waited {budget.TotalMilliseconds:N0} ms for it (Inference:MaxQueueWaitMs) behind " +
          $"{waiting - 1} other(s) without getting a turn. Retry after {retryAfter.TotalSeconds:N0} s.")
{
    public string Model { get; } = model;

    /// <summary><c>expected_wait</c> (refused on arrival) or <c>queue_timeout</c> (refused after waiting the whole budget).</summary>
    public string Reason { get; } = reason;

    public TimeSpan RetryAfter { get; } = retryAfter;
}
