using Microsoft.Extensions.Logging;

namespace Iris.Core.Jobs;

/// <summary>
/// Deletes finished jobs once they are older than the retention: the row (and its result), its webhook records and its
/// stored input. Queued and processing jobs, and jobs whose webhook is still pending, are never touched. Rows go first,
/// in batches, each deleted by exactly one sweeper, so several processes can sweep at once; a process that dies between
/// a batch and its blobs leaves those input files behind, never a job without its input.
/// </summary>
public sealed class JobRetention(IJobRetentionStore store, IJobBlobStore blobs, TimeSpan retention, int batchSize = 100, ILogger<JobRetention>? logger = null, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        if (retention <= TimeSpan.Zero) return 0;
        var before = _clock.GetUtcNow() - retention;
        var total = 0;
        while (true)
        {
            var inputs = await store.DeleteFinishedAsync(before, batchSize, cancellationToken);
            foreach (var input in inputs)
            {
                try
                {
                    await blobs.DeleteAsync(input, cancellationToken);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The job is gone already; a file that cannot be deleted now is only wasted space, not a reason to stop.
                    logger?.LogWarning("Could not delete the input {Input} of an expired job: {Error}", input, e.Message);
                }
            }
            total += inputs.Count;
            if (inputs.Count < batchSize) break;
        }
        if (total > 0)
            logger?.LogInformation("Deleted {Count} job(s) that finished over {Retention} ago", total, retention);
        return total;
    }
}
