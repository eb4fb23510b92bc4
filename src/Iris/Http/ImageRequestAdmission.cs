using Iris.Core.Inference;
using Iris.Core.Telemetry;

namespace Iris.Http;

/// <summary>
/// Bounds how many image requests (every route that decodes an upload) are worked on at once
/// (<c>Server:MaxImageRequests</c>; auto: twice the cores of the <see cref="CpuBudget"/>, at least 4) and how long one may
/// wait for its turn (<c>Inference:MaxQueueWaitMs</c>). Past the bound, a request waits here without holding a thread,
/// and one still waiting when the budget runs out is answered 503 "Server busy" with Retry-After before its image is
/// read or decoded.
/// </summary>
/// <remarks>
/// Without it, excess load waited where no budget applied: decodes and model runs block thread-pool threads, so at 64
/// callers on 2 cores the pool ran out of threads and requests queued in Kestrel and the pool for ~500 ms before their
/// handler even started (p99 1.1 s with a 100 ms budget, nothing refused; bench/README.md, issue #13). Run gates alone
/// cannot see that wait, and a server given more threads refused at the gate only after decoding every image.
/// </remarks>
public sealed class ImageRequestAdmission : IDisposable
{
    private readonly SemaphoreSlim? _slots;
    private readonly TimeSpan? _budget;

    public ImageRequestAdmission(int maxRequests, TimeSpan? budget)
    {
        MaxRequests = maxRequests;
        _slots = maxRequests > 0 ? new SemaphoreSlim(maxRequests, maxRequests) : null;
        _budget = budget;
    }

    /// <summary>Server:MaxImageRequests resolved: 0 or less means no bound; 0 configured means twice the cores, at least 4.</summary>
    public static int Resolve(int configured, CpuBudget cpu) => configured switch
    {
        0 => Math.Max(4, 2 * cpu.Cores),
        < 0 => 0,
        _ => configured,
    };

    /// <summary>Requests worked on at once; 0: no bound.</summary>
    public int MaxRequests { get; }

    /// <summary>Waits for a turn; dispose the result to give it back.</summary>
    /// <exception cref="ServerBusyException">No turn came within Inference:MaxQueueWaitMs.</exception>
    public async ValueTask<IDisposable?> EnterAsync(CancellationToken cancellationToken)
    {
        if (_slots is null) return null;
        if (!_slots.Wait(0, CancellationToken.None))
        {
            var admitted = _budget is { } budget
                ? await _slots.WaitAsync(budget, cancellationToken)
                : await _slots.WaitAsync(Timeout.InfiniteTimeSpan, cancellationToken);
            if (!admitted)
            {
                IrisMetrics.RequestsShed.Add(1);
                throw new ServerBusyException(MaxRequests, _budget!.Value);
            }
        }
        return new Turn(_slots);
    }

    public void Dispose() => _slots?.Dispose();

    private sealed class Turn(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}

/// <summary>
/// All <c>Server:MaxImageRequests</c> image requests were in progress for the whole <c>Inference:MaxQueueWaitMs</c>; 503
/// with Retry-After at the HTTP edge.
/// </summary>
public sealed class ServerBusyException(int maxRequests, TimeSpan budget)
    : Exception($"Iris is busy: {maxRequests} image requests are in progress (Server:MaxImageRequests) and this one waited " +
                $"{budget.TotalMilliseconds:N0} ms (Inference:MaxQueueWaitMs) without getting a turn. Retry after {RetryAfterSeconds(budget)} s.")
{
    /// <summary>About one budget's worth of work drains in a budget, so a client that comes back then finds room.</summary>
    public TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(RetryAfterSeconds(budget));

    private static int RetryAfterSeconds(TimeSpan budget) => Math.Max(1, (int)Math.Ceiling(budget.TotalSeconds));
}
