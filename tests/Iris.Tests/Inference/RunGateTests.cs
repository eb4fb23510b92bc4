using Iris.Core.Inference;

namespace Iris.Tests.Inference;

public sealed class RunGateTests
{
    [Fact]
    public async Task At_most_the_configured_number_of_runs_are_inside_at_once()
    {
        using var gate = new RunGate(2, "test-model", "test");
        var inside = 0;
        var most = 0;
        var release = new TaskCompletionSource();
        async Task RunAsync()
        {
            using (await gate.EnterAsync(CancellationToken.None))
            {
                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                await release.Task;
                Interlocked.Decrement(ref inside);
            }
        }
        var runs = Enumerable.Range(0, 5).Select(_ => Task.Run(RunAsync)).ToList();
        // Wait until two runs are in; the other three must be waiting at the gate.
        for (var i = 0; i < 200 && Volatile.Read(ref inside) < 2; i++) await Task.Delay(10);
        await Task.Delay(50);
        Assert.Equal(2, Volatile.Read(ref inside));
        release.SetResult();
        await Task.WhenAll(runs);
        Assert.Equal(2, most);
        Assert.Equal(0, inside);
    }

    [Fact]
    public async Task Zero_means_no_bound()
    {
        using var gate = new RunGate(0, "test-model", "test");
        var slots = new List<RunGate.Slot>();
        for (var i = 0; i < 50; i++) slots.Add(await gate.EnterAsync(CancellationToken.None));
        foreach (var slot in slots) slot.Dispose();
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

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
