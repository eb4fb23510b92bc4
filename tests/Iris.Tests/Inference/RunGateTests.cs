using Iris.Core.Inference;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Inference;

public sealed class RunGateTests
{
    [Fact]
    public async Task At_most_the_configured_number_of_runs_are_inside_at_once()
    {
        using var gate = new RunGate(2, "test-model", "test");
        var first = await gate.EnterAsync(CancellationToken.None);
        var second = await gate.EnterAsync(CancellationToken.None);
        // A slot's wait completes synchronously when a slot is free, so "not completed" means "waiting at the gate".
        var third = gate.EnterAsync(CancellationToken.None).AsTask();
        var fourth = gate.EnterAsync(CancellationToken.None).AsTask();
        Assert.False(third.IsCompleted);
        Assert.False(fourth.IsCompleted);

        first.Dispose();
        using var admitted = await (await Task.WhenAny(third, fourth)).WaitAsync(TimeSpan.FromSeconds(5));
        var stillWaiting = third.IsCompleted ? fourth : third;
        Assert.False(stillWaiting.IsCompleted);
        second.Dispose();
        using var last = await stillWaiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Zero_means_no_bound()
    {
        using var unbounded = new RunGate(0, "test-model", "test");
        // 50 runs enter at once, none waiting for another to leave: every entry completes synchronously.
        var entries = Enumerable.Range(0, 50).Select(_ => unbounded.EnterAsync(CancellationToken.None).AsTask()).ToList();
        Assert.All(entries, entry => Assert.True(entry.IsCompletedSuccessfully));
        foreach (var entry in entries) (await entry).Dispose();

        // The same check tells a bound: with one slot, the second entry waits until the first leaves.
        using var bounded = new RunGate(1, "test-model", "test");
        var held = await bounded.EnterAsync(CancellationToken.None);
        var waiting = bounded.EnterAsync(CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        held.Dispose();
        using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_canceled_wait_takes_no_slot()
    {
        using var gate = new RunGate(1, "test-model", "test");
        var held = await gate.EnterAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await gate.EnterAsync(cancel.Token));
        held.Dispose();
        // The slot the canceled waiter never got is free.
        using var next = await gate.EnterAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
    }
}

/// <summary>The wait for a slot is bounded: excess runs are refused fast instead of waiting past the budget.</summary>
public sealed class RunGateOverloadTests
{
    [Fact]
    public async Task A_run_whose_expected_wait_exceeds_the_budget_is_refused_at_once_with_a_retry_after()
    {
        var time = new FakeTimeProvider();
        using var gate = new RunGate(new RunLimits(1, TimeSpan.FromMilliseconds(500)), "slow-model", "test", time);
        // One run that held its slot for a second teaches the gate what a run costs.
        using (await gate.EnterAsync(CancellationToken.None))
            time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), gate.MeanRunTime);

        using var held = await gate.EnterAsync(CancellationToken.None);
        var refused = await Assert.ThrowsAsync<InferenceOverloadedException>(async () => await gate.EnterAsync(CancellationToken.None));
        Assert.Equal("expected_wait", refused.Reason);
        Assert.Equal("slow-model", refused.Model);
        Assert.True(refused.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.Contains("Inference:MaxQueueWaitMs", refused.Message);
    }

    [Fact]
    public async Task A_run_still_waiting_when_the_budget_runs_out_is_refused_and_takes_no_slot()
    {
        var time = new FakeTimeProvider();
        using var gate = new RunGate(new RunLimits(1, TimeSpan.FromMilliseconds(500)), "test-model", "test", time);
        var held = await gate.EnterAsync(CancellationToken.None);
        // No run has finished yet, so nothing predicts a long wait: the run queues.
        var waiting = gate.EnterAsync(CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(500));
        var refused = await Assert.ThrowsAsync<InferenceOverloadedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("queue_timeout", refused.Reason);

        held.Dispose();
        var next = gate.EnterAsync(CancellationToken.None);
        Assert.True(next.IsCompletedSuccessfully);
        (await next).Dispose();
    }

    [Fact]
    public async Task A_run_that_gets_its_slot_within_the_budget_runs()
    {
        var time = new FakeTimeProvider();
        using var gate = new RunGate(new RunLimits(1, TimeSpan.FromSeconds(2)), "test-model", "test", time);
        using (await gate.EnterAsync(CancellationToken.None))
            time.Advance(TimeSpan.FromMilliseconds(100));

        var held = await gate.EnterAsync(CancellationToken.None);
        var waiting = gate.EnterAsync(CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(100));
        held.Dispose();
        using var admitted = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
