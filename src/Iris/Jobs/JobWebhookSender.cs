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
/// signed text lets receivers refuse replays; <c>X-Iris-Delivery</c> stays the same across attempts, so receivers can
/// drop the repeats that at-least-once delivery allows. One call is one attempt: <see cref="JobWebhookDispatcher"/>
/// decides when to retry.
/// </summary>
public sealed class JobWebhookSender(IHttpClientFactory clients, TimeProvider? clock = null)
{
    /// <summary>The named client webhooks are posted with (10 s time-out).</summary>
    public const string ClientName = "webhooks";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public const string SignatureHeader = "X-Iris-Signature";
    public const string TimestampHeader = "X-Iris-Timestamp";
    public const string EventHeader = "X-Iris-Event";
    public const string DeliveryHeader = "X-Iris-Delivery";
    public const string AttemptHeader = "X-Iris-Delivery-Attempt";

    public static string Sign(string secret, string timestamp, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>The webhook body: the event and the job as stored now.</summary>
    public static string Body(string eventName, Job job) =>
        JsonSerializer.Serialize(new { @event = eventName, job = JobResponse.From(job) }, JobResponse.Json);

    /// <summary>Makes one attempt; null when the receiver accepted it (2xx), else why not.</summary>
    public async Task<string?> SendAsync(WebhookDelivery delivery, Job job, string secret, CancellationToken cancellationToken)
    {
        var body = Body(delivery.Event, job);
        var timestamp = _clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(EventHeader, delivery.Event);
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(secret, timestamp, body));
        request.Headers.Add(DeliveryHeader, delivery.Id);
        request.Headers.Add(AttemptHeader, delivery.Attempts.ToString(CultureInfo.InvariantCulture));
        try
        {
            // Headers only: the receiver's body is never read, so a receiver that streams without end costs nothing.
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return response.IsSuccessStatusCode ? null : $"answered {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A refused address says which option allows it, rather than the handler's generic connection error.
            return e.InnerException is Core.Sources.SourceNotAllowedException refused ? refused.Message : e.Message;
        }
    }
}
