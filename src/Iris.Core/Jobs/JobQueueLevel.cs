namespace Iris.Core.Jobs;

/// <summary>
/// How full a queue is, as its broker sees it: entries waiting to be delivered now (not leased, not delayed), and
/// since when the oldest of them has waited (null when the broker cannot tell, or nothing waits).
/// </summary>
public sealed record JobQueueLevel(string Queue, string Backend, long Depth, DateTimeOffset? OldestWaitingSince);

/// <summary>A queue that can say how full it is, for the operations gauges (one cheap query; callers cache it).</summary>
public interface IJobQueueProbe
{
    Task<JobQueueLevel> MeasureAsync(CancellationToken cancellationToken);
}

/// <summary>
/// What the job store knows about work not done yet: queued jobs (any queue backend) and the webhook outbox. The
/// fallback for queues whose broker cannot tell depth or age (Kafka, RabbitMQ's oldest message).
/// </summary>
public sealed record JobBacklog(long QueuedJobs, DateTimeOffset? OldestQueuedSince, long WebhooksPending, long WebhooksFailed);
