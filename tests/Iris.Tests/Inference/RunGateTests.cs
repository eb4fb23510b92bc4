using Iris.Core.Inference;

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
