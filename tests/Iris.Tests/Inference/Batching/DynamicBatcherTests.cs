using Iris.Core.Inference.Batching;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Inference.Batching;

public class DynamicBatcherTests
{
    /// <summary>A model whose runs block until the test releases them, recording each batch it was given.</summary>
    private sealed class GatedModel
    {
        private readonly Lock _lock = new();
        private readonly List<TaskCompletionSource> _gates = [];
        private readonly SemaphoreSlim _started = new(0);
        private bool _open;

        public List<int[]> Batches { get; } = [];

        public async Task<IReadOnlyList<int>> RunAsync(IReadOnlyList<int> inputs, CancellationToken cancellationToken)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                Batches.Add([.. inputs]);
                if (_open) gate.SetResult();
                _gates.Add(gate);
            }
            _started.Release();
            await gate.Task;
            return inputs.Select(i => i * 10).ToArray();
        }

        /// <summary>Waits for the next run to start (each run is counted once).</summary>
        public async Task RunStartedAsync() => Assert.True(await _started.WaitAsync(TimeSpan.FromSeconds(10)), "no run started");

        /// <summary>Lets the run with this index (in start order) finish.</summary>
        public void Release(int run)
        {
            lock (_lock) _gates[run].TrySetResult();
        }

        public void ReleaseAll()
        {
            lock (_lock)
            {
                _open = true;
                foreach (var gate in _gates) gate.TrySetResult();
            }
        }
    }

    /// <summary>A batcher whose model is busy with a first request (input 0), so that the next requests queue.</summary>
    private static async Task<(DynamicBatcher<int, int> Batcher, Task<int> Running)> BusyAsync(GatedModel model, BatchingPolicy policy, string name = "m")
    {
        var batcher = new DynamicBatcher<int, int>(name, policy, model.RunAsync);
        var running = batcher.RunAsync(0);
        await model.RunStartedAsync();
        return (batcher, running);
    }

    private static BatchingPolicy Policy(int maxBatch = 8, int maxQueue = 64, double maxDelayMs = 0) =>
        new(maxBatch, TimeSpan.FromMilliseconds(maxDelayMs), maxQueue);

    [Fact]
    public async Task A_lone_request_runs_at_once_without_waiting_for_the_delay()
    {
        var model = new GatedModel();
        model.ReleaseAll();
        // The clock never moves: a request that waited for MaxDelay would never finish.
        using var batcher = new DynamicBatcher<int, int>("m", Policy(maxDelayMs: 60_000), model.RunAsync, time: new FakeTimeProvider());

        Assert.Equal(70, await batcher.RunAsync(7).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Single(model.Batches);
    }

    [Fact]
    public async Task Requests_that_arrive_while_a_batch_runs_become_the_next_batch_with_their_own_results()
    {
        var model = new GatedModel();
        using var batcher = new DynamicBatcher<int, int>("m", Policy(maxBatch: 8), model.RunAsync);

        var first = batcher.RunAsync(1);
        await model.RunStartedAsync();
        var waiting = Enumerable.Range(2, 11).Select(i => batcher.RunAsync(i)).ToArray();
        Assert.Equal(11, batcher.Queued);
        model.ReleaseAll();
        var results = await Task.WhenAll(waiting.Prepend(first)).WaitAsync(TimeSpan.FromSeconds(10));

        // Sequentially each input i gives i * 10; batched, every caller still gets its own.
        Assert.Equal(Enumerable.Range(1, 12).Select(i => i * 10), results);
        Assert.Equal([[1], [2, 3, 4, 5, 6, 7, 8, 9], [10, 11, 12]], model.Batches);
        Assert.Equal(3, batcher.Batches);
    }

    [Fact]
    public async Task A_full_queue_refuses_the_next_request_with_a_retry_after()
    {
        var model = new GatedModel();
        var (batcher, running) = await BusyAsync(model, Policy(maxBatch: 2, maxQueue: 3), "yolox-nano");
        using var _ = batcher;
        var queued = Enumerable.Range(1, 3).Select(i => batcher.RunAsync(i)).ToArray();

        var refused = await Assert.ThrowsAsync<BatchQueueFullException>(() => batcher.RunAsync(4));

        Assert.Equal("yolox-nano", refused.Model);
        Assert.True(refused.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.Contains("3 requests waiting", refused.Message);
        model.ReleaseAll();
        var results = await Task.WhenAll(queued.Prepend(running)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([0, 10, 20, 30], results);
    }

    [Fact]
    public async Task A_cancelled_caller_leaves_the_queue_and_the_others_get_their_results()
    {
        var model = new GatedModel();
        var (batcher, running) = await BusyAsync(model, Policy());
        using var _ = batcher;
        using var cancel = new CancellationTokenSource();
        var a = batcher.RunAsync(1);
        var cancelled = batcher.RunAsync(2, cancel.Token);
        var b = batcher.RunAsync(3);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(2, batcher.Queued);
        model.ReleaseAll();
        var results = await Task.WhenAll(running, a, b).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([0, 10, 30], results);
        Assert.Equal([1, 3], model.Batches[1]);
    }

    [Fact]
    public async Task A_caller_cancelled_while_its_batch_runs_does_not_fail_the_others_in_it()
    {
        var model = new GatedModel();
        var (batcher, running) = await BusyAsync(model, Policy());
        using var _ = batcher;
        using var cancel = new CancellationTokenSource();
        var a = batcher.RunAsync(1);
        var cancelled = batcher.RunAsync(2, cancel.Token);
        model.Release(0);
        await running;
        await model.RunStartedAsync(); // the batch [1, 2] is running

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        model.ReleaseAll();
        Assert.Equal(10, await a.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal([1, 2], model.Batches[1]);
    }

    [Fact]
    public async Task A_partial_batch_waits_up_to_max_delay_for_company_only_while_another_batch_runs()
    {
        var model = new GatedModel();
        var time = new FakeTimeProvider();
        using var batcher = new DynamicBatcher<int, int>("m", Policy(maxBatch: 4, maxDelayMs: 5), model.RunAsync, concurrentBatches: 2, time);
        var first = batcher.RunAsync(1);
        await model.RunStartedAsync(); // the model was idle: no wait

        var second = batcher.RunAsync(2);
        Assert.Equal(1, batcher.Queued); // a second slot is free, but the first batch runs: it waits for company
        time.Advance(TimeSpan.FromMilliseconds(4));
        var third = batcher.RunAsync(3);
        Assert.Equal(2, batcher.Queued);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await model.RunStartedAsync();

        Assert.Equal(0, batcher.Queued);
        model.ReleaseAll();
        var results = await Task.WhenAll(first, second, third).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([10, 20, 30], results);
        Assert.Equal([[1], [2, 3]], model.Batches);
    }

    [Fact]
    public async Task A_failed_batch_fails_its_callers_and_the_next_batch_still_runs()
    {
        var calls = 0;
        using var batcher = new DynamicBatcher<int, int>("m", Policy(), (inputs, _) =>
            Interlocked.Increment(ref calls) == 1
                ? Task.FromException<IReadOnlyList<int>>(new InvalidOperationException("boom"))
                : Task.FromResult<IReadOnlyList<int>>(inputs.ToArray()));

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.RunAsync(1));
        Assert.Equal(2, await batcher.RunAsync(2).WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
