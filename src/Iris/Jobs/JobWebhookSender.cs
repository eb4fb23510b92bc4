using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Jobs;

namespace Iris.Jobs;

/// <summary>
/// Posts a finished job to its <c>callback_url</c>, signed so the receiver can trust it:
/// <c>X-Iris-Signature: sha256=hex(HMAC-SHA256(secret, "{X-Iris-Timestamp}.{body}"))</c>. The timestamp inside the
/// signed text lets receivers refuse replays. Failed deliveries (network error, non-2xx) are retried with backoff.
/// </summary>
public sealed class JobWebhookSender(HttpClient http, JobSettings settings, ILogger<JobWebhookSender> logger)
{
    public const string SignatureHeader = "X-Iris-Signature";
    public const string TimestampHeader = "X-Iris-Timestamp";
    public const string EventHeader = "X-Iris-Event";

    /// <summary>Starts delivery in the background; the worker moves on at once.</summary>
    public Task OnFinishedAsync(Job job)
    {
        if (job.CallbackUrl is null || settings.WebhookSecret is null) return Task.CompletedTask;
        _ = Task.Run(() => DeliverAsync(job, job.CallbackUrl, settings.WebhookSecret));
        return Task.CompletedTask;
    }

    public static string Sign(string secret, string timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }

    private async Task DeliverAsync(Job job, string url, string secret)
    {
        var eventName = "job." + SqlJobStore.Name(job.Status);
        var body = JsonSerializer.Serialize(new { @event = eventName, job = JobResponse.From(job) }, JobResponse.Json);
        for (var attempt = 1; attempt <= settings.WebhookMaxAttempts; attempt++)
        {
            try
            {
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add(EventHeader, eventName);
                request.Headers.Add(TimestampHeader, timestamp);
                request.Headers.Add(SignatureHeader, Sign(secret, timestamp, body));
                request.Headers.Add("X-Iris-Delivery-Attempt", attempt.ToString(CultureInfo.InvariantCulture));
                using var response = await http.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    logger.LogInformation("Webhook for job {JobId} delivered to {Url} (attempt {Attempt})", job.Id, url, attempt);
                    return;
                }
                logger.LogWarning("Webhook for job {JobId} to {Url} answered {Status} (attempt {Attempt})", job.Id, url, (int)response.StatusCode, attempt);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                logger.LogWarning("Webhook for job {JobId} to {Url} failed (attempt {Attempt}): {Error}", job.Id, url, attempt, e.Message);
            }
            if (attempt < settings.WebhookMaxAttempts)
                await Task.Delay(settings.WebhookBaseDelay * Math.Pow(2, attempt - 1));
        }
        logger.LogError("Webhook for job {JobId} to {Url} gave up after {Attempts} attempts", job.Id, url, settings.WebhookMaxAttempts);
    }
}
