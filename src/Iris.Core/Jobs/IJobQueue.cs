namespace Iris.Core.Jobs;

/// <summary>One delivery of a job id to a worker; the token identifies this delivery to ack or renew it.</summary>
public sealed record JobDelivery(string JobId, string Token, int DeliveryCount);

/// <summary>
/// Carries job ids from the API to workers, at least once: a delivery that is not acknowledged (its worker died)
/// is delivered again. Duplicates are harmless because <see cref="IJobStore.TryStartAsync"/> decides who works.
/// </summary>
public interface IJobQueue : IAsyncDisposable
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Makes the job deliverable after <paramref name="delay"/> (zero: at once).</summary>
    Task EnqueueAsync(string jobId, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>The next delivery, waiting up to <paramref name="wait"/>; null if none came.</summary>
    Task<JobDelivery?> ReceiveAsync(TimeSpan wait, CancellationToken cancellationToken);

    /// <summary>The delivery is handled (done, failed, skipped): never deliver it again.</summary>
    Task AckAsync(JobDelivery delivery, CancellationToken cancellationToken);

    /// <summary>Extends the delivery's lease while its job is still being worked on.</summary>
    Task RenewAsync(JobDelivery delivery, CancellationToken cancellationToken);

    /// <summary>Gives the delivery back to be delivered again after <paramref name="delay"/> (retry backoff, or zero at shutdown).</summary>
    Task ReleaseAsync(JobDelivery delivery, TimeSpan delay, CancellationToken cancellationToken);
}
