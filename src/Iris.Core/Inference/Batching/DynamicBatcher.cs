using System.Diagnostics;
using Iris.Core.Telemetry;

namespace Iris.Core.Inference.Batching;

/// <summary>
/// Gathers concurrent requests to one model into batches, Triton's dynamic batcher in small: a request joins a queue;
/// whenever the model has a free batch slot, everything queued (up to <see cref="BatchingPolicy.MaxBatch"/>) runs as
/// one call and each caller gets its own result. A request to an idle model therefore runs at once, alone; requests
/// that arrive while a batch runs are the next batch. A partial batch waits up to <see cref="BatchingPolicy.MaxDelay"/>
/// for company only while another batch of the model is running. The queue is bounded by
/// <see cref="BatchingPolicy.MaxQueue"/>; beyond it, <see cref="BatchQueueFullException"/>. The run limits' time budget
/// (<c>Inference:MaxQueueWaitMs</c>) holds here as it does at the <see cref="RunGate"/>: a request whose expected wait for
/// a batch is longer is refused on arrival with <see cref="InferenceOverloadedException"/>. A caller that gives up
/// leaves the queue, or, when its batch already runs, just stops waiting: the others still get their results.
/// </summary>
public sealed class DynamicBatcher<TInput, TOutput> : IDisposable
{
    private readonly Func<IReadOnlyList<TInput>, CancellationToken, Task<IReadOnlyList<TOutput>>> _run;
    private readonly BatchingPolicy _policy;
    private readonly int _concurrentBatches;
    private readonly TimeSpan? _maxQueueWait;
    private readonly TimeProvider _time;
    private readonly string _model;
    private readonly TagList _tags;
    private readonly Lock _lock = new();
    private readonly LinkedList<Pending> _queue = new();
    private readonly CancellationTokenSource _disposed = new();
    private ITimer? _delay;
    private int _running;
    private double _batchSeconds;
    private long _batches;

    /// <param name="run">Runs one batch; returns one output per input, in order.</param>
    /// <param name="concurrentBatches">Batches of this model allowed to run at once (the model's run slots) and how long a
    /// request may expect to wait for one.</param>
    public DynamicBatcher(string model, BatchingPolicy policy, Func<IReadOnlyList<TInput>, CancellationToken, Task<IReadOnlyList<TOutput>>> run,
        RunLimits? concurrentBatches = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(policy.MaxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(policy.MaxQueue, 1);
        _model = model;
        _policy = policy;
        _run = run;
        _concurrentBatches = Math.Max(1, concurrentBatches?.MaxConcurrent ?? 1);
        _maxQueueWait = concurrentBatches?.MaxQueueWait is { } budget && budget > TimeSpan.Zero ? budget : null;
        _time = time ?? TimeProvider.System;
        _tags = new TagList { { "model", model } };
    }

    public BatchingPolicy Policy => _policy;

    /// <summary>Batches run so far (each one ONNX Runtime call).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Requests waiting for a batch now.</summary>
    public int Queued
    {
        get
        {
            lock (_lock) return _queue.Count;
        }
    }

    /// <summary>Runs <paramref name="input"/> in the next batch and returns its own output.</summary>
    /// <exception cref="BatchQueueFullException">MaxQueue requests are waiting already.</exception>
    public async Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var pending = new Pending(input, _time.GetTimestamp());
        Pending[]? own;
        lock (_lock)
        {
            if (_queue.Count >= _policy.MaxQueue)
            {
                IrisMetrics.ModelBatchRejected.Add(1, _tags);
                throw new BatchQueueFullException(_model, _queue.Count, RetryAfterLocked());
            }
            if (_maxQueueWait is { } budget && _running >= _concurrentBatches && ExpectedWaitLocked() is var expected && expected > budget)
            {
                IrisMetrics.InferenceRejected.Add(1, new TagList { { "model", _model }, { "reason", "expected_wait" } });
                throw new InferenceOverloadedException(_model, "expected_wait", _queue.Count + 1, expected, budget, RetryAfterLocked());
            }
            pending.Node = _queue.AddLast(pending);
            own = DispatchLocked(pending);
        }
        // The batch that holds this caller's input runs on this caller's thread (always so on an idle model): no
        // hand-over to another thread, so a lone caller waits for no scheduler.
        if (own is not null) await RunBatchesAsync(own, thenQueued: false);
        await using (cancellationToken.Register(() => Cancel(pending, cancellationToken)))
            return await pending.Completion.Task;
    }

    private void Cancel(Pending pending, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            // Still queued: it leaves the queue. Already in a running batch: that batch goes on for the others.
            if (pending.Node?.List is not null) _queue.Remove(pending.Node);
        }
        pending.Completion.TrySetCanceled(cancellationToken);
    }

    /// <summary>
    /// Starts batches while slots are free; the batch holding <paramref name="caller"/>, if any, is returned for the
    /// caller to run itself.
    /// </summary>
    private Pending[]? DispatchLocked(Pending? caller)
    {
        Pending[]? own = null;
        while (TakeBatchLocked() is { } batch)
        {
            if (caller is not null && batch.Contains(caller)) own = batch;
            else _ = Task.Run(() => RunBatchesAsync(batch, thenQueued: true));
        }
        return own;
    }

    /// <summary>The next batch if a slot is free and the queue is ready to go (counted as running), else null.</summary>
    private Pending[]? TakeBatchLocked()
    {
        if (_running >= _concurrentBatches || _queue.Count == 0 || _disposed.IsCancellationRequested) return null;
        if (_queue.Count < _policy.MaxBatch && _running > 0 && _policy.MaxDelay > TimeSpan.Zero)
        {
            var waited = _time.GetElapsedTime(_queue.First!.Value.Enqueued);
            if (waited < _policy.MaxDelay)
            {
                _delay ??= _time.CreateTimer(_ => OnDelayElapsed(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _delay.Change(_policy.MaxDelay - waited, Timeout.InfiniteTimeSpan);
                return null;
            }
        }
        var batch = new Pending[Math.Min(_queue.Count, _policy.MaxBatch)];
        var now = _time.GetTimestamp();
        for (var i = 0; i < batch.Length; i++)
        {
            batch[i] = _queue.First!.Value;
            _queue.RemoveFirst();
            IrisMetrics.ModelBatchQueue.Record(_time.GetElapsedTime(batch[i].Enqueued, now).TotalSeconds, _tags);
        }
        IrisMetrics.ModelBatchSize.Record(batch.Length, _tags);
        Interlocked.Increment(ref _batches);
        _running++;
        return batch;
    }

    private void OnDelayElapsed()
    {
        lock (_lock) DispatchLocked(null);
    }

    /// <summary>
    /// Runs <paramref name="batch"/>, then, with <paramref name="thenQueued"/>, the next batches on the same thread while
    /// requests are queued (a caller running its own batch leaves them to another thread, so that it can answer).
    /// </summary>
    private async Task RunBatchesAsync(Pending[] batch, bool thenQueued)
    {
        for (Pending[]? next = batch; next is not null;)
        {
            var started = _time.GetTimestamp();
            try
            {
                var outputs = await _run(next.Select(p => p.Input).ToArray(), _disposed.Token);
                if (outputs.Count != next.Length)
                    throw new InvalidOperationException($"A batch of {next.Length} inputs of model '{_model}' gave {outputs.Count} outputs.");
                for (var i = 0; i < next.Length; i++) next[i].Completion.TrySetResult(outputs[i]);
            }
            catch (Exception e)
            {
                foreach (var pending in next) pending.Completion.TrySetException(e);
            }
            lock (_lock)
            {
                _running--;
                var seconds = _time.GetElapsedTime(started).TotalSeconds;
                _batchSeconds = _batchSeconds == 0 ? seconds : 0.8 * _batchSeconds + 0.2 * seconds;
                next = thenQueued ? TakeBatchLocked() : null;
                DispatchLocked(null);
            }
        }
    }

    /// <summary>
    /// How long a request arriving now should wait for its batch to start, at the recent batch time: every slot is busy,
    /// so it waits for the batches queued ahead of it and the one it joins to get a slot.
    /// </summary>
    private TimeSpan ExpectedWaitLocked() =>
        TimeSpan.FromSeconds(Math.Ceiling((_queue.Count + 1.0) / _policy.MaxBatch) * _batchSeconds / _concurrentBatches);

    /// <summary>How long the queue ahead should take to drain at the recent batch time, in whole seconds, at least one.</summary>
    private TimeSpan RetryAfterLocked()
    {
        var batchesAhead = Math.Ceiling((double)_queue.Count / _policy.MaxBatch) + _running;
        var seconds = Math.Ceiling(batchesAhead * _batchSeconds / _concurrentBatches);
        return TimeSpan.FromSeconds(Math.Max(1, seconds));
    }

    public void Dispose()
    {
        List<Pending> abandoned;
        lock (_lock)
        {
            if (_disposed.IsCancellationRequested) return;
            _disposed.Cancel();
            abandoned = [.. _queue];
            _queue.Clear();
            _delay?.Dispose();
        }
        foreach (var pending in abandoned) pending.Completion.TrySetException(new ObjectDisposedException(GetType().Name, $"Model '{_model}' was unloaded."));
    }

    private sealed class Pending(TInput input, long enqueued)
    {
        public TInput Input { get; } = input;
        public long Enqueued { get; } = enqueued;
        public LinkedListNode<Pending>? Node { get; set; }
        public TaskCompletionSource<TOutput> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
