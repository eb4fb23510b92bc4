namespace Iris.Core.Jobs;

/// <summary>What the retention sweep needs of the job store: deleting finished jobs past their time.</summary>
public interface IJobRetentionStore
{
    /// <summary>
    /// Deletes up to <paramref name="limit"/> jobs that finished (done, failed, canceled) before <paramref name="before"/>,
    /// with their delivered or failed webhooks; a job whose webhook is still pending stays. Returns the deleted jobs'
    /// input references, whose blobs the caller deletes.
    /// </summary>
    Task<IReadOnlyList<string>> DeleteFinishedAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);
}
