using Iris.Core.Jobs;

namespace Iris.Jobs;

/// <summary>
/// Sends the webhooks the job store recorded when jobs finished (its outbox). It claims due deliveries in the store,
/// so dispatchers in several processes never send one delivery at the same moment, and one that dies mid-send leaves
/// the delivery to be claimed again once the claim's lease runs out: delivery is at least once. A failed attempt is
/// retried with exponential backoff (Jobs:WebhookBaseDelaySeconds) until Jobs:WebhookMaxAttempts, then marked failed.
/// </summary>
public sealed class JobWebhookDispatcher(
    IWebhookOutbox outbox, IJobStore jobs, JobWebhookSender sender, JobSettings settings, TimeSpan pollInterval, ILogger<JobWebhookDispatcher> logger, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Longer than one send can take (the HTTP client gives up after 10 s), so a claim never expires mid-send.</summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(60);

    private const int Batch = 16;
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    /// <summary>A job of this process finished: look for its delivery now rather than at the next poll.</summary>
    public Task OnFinishedAsync(Job job)
    {
        if (job.CallbackUrl is not null) _signal.Release();
        return Task.CompletedTask;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                sent = await DispatchDueAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Webhook dispatch failed: {Error}", e.Message);
            }
            if (sent == Batch) continue;
            try
            {
                await _signal.WaitAsync(pollInterval, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Claims the deliveries that are due and makes one attempt at each; returns how many it claimed.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        var due = await outbox.ClaimWebhooksAsync(ClaimLease, Batch, cancellationToken);
        await Task.WhenAll(due.Select(d => AttemptAsync(d, cancellationToken)));
        return due.Count;
    }

    private async Task AttemptAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var none = CancellationToken.None;
        var job = await jobs.GetAsync(delivery.JobId, none);
        string? error;
        if (job is null)
            error = "the job no longer exists";
        else if (settings.WebhookSecret is null)
            error = "Jobs:WebhookSecret is not set, so the webhook cannot be signed";
        else
        {
            try
            {
                error = await sender.SendAsync(delivery, job, settings.WebhookSecret, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutting down mid-send: due again at once for whichever dispatcher runs next.
                await outbox.RecordWebhookAsync(delivery.Id, delivery.Attempts, WebhookStatus.Pending, _clock.GetUtcNow(), "interrupted by shutdown", none);
                return;
            }
        }

        if (error is null)
        {
            await outbox.RecordWebhookAsync(delivery.Id, delivery.Attempts, WebhookStatus.Delivered, _clock.GetUtcNow(), null, none);
            logger.LogInformation("Webhook {DeliveryId} for job {JobId} delivered to {Url} (attempt {Attempt})", delivery.Id, delivery.JobId, delivery.Url, delivery.Attempts);
        }
        else if (job is null || settings.WebhookSecret is null || delivery.Attempts >= settings.WebhookMaxAttempts)
        {
            await outbox.RecordWebhookAsync(delivery.Id, delivery.Attempts, WebhookStatus.Failed, _clock.GetUtcNow(), error, none);
            logger.LogError("Webhook {DeliveryId} for job {JobId} to {Url} gave up after {Attempts} attempts: {Error}",
                delivery.Id, delivery.JobId, delivery.Url, delivery.Attempts, error);
        }
        else
        {
            var delay = settings.WebhookDelay(delivery.Attempts);
            await outbox.RecordWebhookAsync(delivery.Id, delivery.Attempts, WebhookStatus.Pending, _clock.GetUtcNow() + delay, error, none);
            logger.LogWarning("Webhook {DeliveryId} for job {JobId} to {Url} failed (attempt {Attempt}), retrying in {DelayMs} ms: {Error}",
                delivery.Id, delivery.JobId, delivery.Url, delivery.Attempts, delay.TotalMilliseconds, error);
        }
    }
}
