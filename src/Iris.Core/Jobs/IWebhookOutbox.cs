namespace Iris.Core.Jobs;

/// <summary>
/// The webhooks finished jobs owe, written by the job store in the same transaction as the job's final state (see
/// <see cref="IJobStore.CompleteAsync"/> and <see cref="IJobStore.FailAsync"/>), and sent by the dispatcher.
/// </summary>
public interface IWebhookOutbox
{
    /// <summary>
    /// Claims up to <paramref name="limit"/> pending webhook deliveries that are due: counts an attempt and moves
    /// their due time <paramref name="lease"/> ahead, in one conditional update, so concurrent dispatchers never send
    /// the same delivery at once and one that dies mid-send is retried once the lease runs out.
    /// </summary>
    Task<IReadOnlyList<WebhookDelivery>> ClaimWebhooksAsync(TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Records the outcome of attempt <paramref name="attempt"/> (delivered, failed for good, or pending again until
    /// <paramref name="nextAttemptAt"/>). False when the delivery moved on meanwhile (its claim expired and another
    /// dispatcher took it).
    /// </summary>
    Task<bool> RecordWebhookAsync(string deliveryId, int attempt, WebhookStatus status, DateTimeOffset nextAttemptAt, string? error, CancellationToken cancellationToken);

    /// <summary>The job's latest webhook delivery (a retried job can finish, and notify, more than once).</summary>
    Task<WebhookDelivery?> GetWebhookAsync(string jobId, CancellationToken cancellationToken);
}
