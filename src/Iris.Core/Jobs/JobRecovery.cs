using Microsoft.Extensions.Logging;

namespace Iris.Core.Jobs;

/// <summary>
/// The store is the record of every accepted job; the queue only carries ids. This sweep re-enqueues jobs that have
/// waited too long without a worker — because a process died between recording a job and enqueuing it, or a broker
/// lost messages (a Redis restart without AOF, a purged queue). Enqueuing a job that is still in the queue only makes a
/// duplicate delivery, which the store turns away, so the sweep errs on the side of enqueuing.
/// </summary>
public sealed class JobRecovery(IJobStore store, IJobQueue queue, TimeSpan staleAfter, ILogger<JobRecovery>? logger = null, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var stale = await store.ListStaleAsync(_clock.GetUtcNow() - staleAfter, 500, cancellationToken);
        foreach (var job in stale)
        {
            await queue.EnqueueAsync(job.Id, TimeSpan.Zero, cancellationToken);
            await store.TouchAsync(job.Id, cancellationToken);
        }
        if (stale.Count > 0)
            logger?.LogWarning("Re-enqueued {Count} job(s) that waited over {Seconds:F0} s without a worker: {Ids}",
                stale.Count, staleAfter.TotalSeconds, string.Join(",", stale.Select(j => j.Id)));
        return stale.Count;
    }
}
