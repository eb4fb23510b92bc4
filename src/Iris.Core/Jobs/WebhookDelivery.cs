namespace Iris.Core.Jobs;

public enum WebhookStatus { Pending, Delivered, Failed }

/// <summary>
/// One webhook owed for a finished job: the outbox row the store writes in the same transaction as the job's final
/// state, so a process that dies right after finishing a job still leaves the notification to send. The body is not
/// stored: it is rendered from the job when sent.
/// </summary>
public sealed record WebhookDelivery
{
    /// <summary>Stable across attempts (sent as <c>X-Iris-Delivery</c>), so receivers can drop repeats.</summary>
    public required string Id { get; init; }
    public required string JobId { get; init; }
    public required string Url { get; init; }

    /// <summary><c>job.done</c> or <c>job.failed</c>: the state the job reached when the delivery was recorded.</summary>
    public required string Event { get; init; }

    /// <summary>Attempts started, counting the one a claim is about to make.</summary>
    public int Attempts { get; init; }

    /// <summary>When the next attempt is due; while an attempt is in flight, when its claim expires.</summary>
    public DateTimeOffset NextAttemptAt { get; init; }

    public WebhookStatus Status { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
}
