using System.Text.Json;
using System.Text.Json.Serialization;
using Iris.Core.Jobs;

namespace Iris.Contracts;

/// <summary>The JSON document describing one job (GET /v1/jobs/{id}, listings, SSE events, webhooks).</summary>
public sealed record JobResponse(
    string Id,
    string Status,
    IReadOnlyList<string> Tasks,
    IReadOnlyDictionary<string, string> Parameters,
    int Attempts,
    string? Error,
    string? BatchId,
    string? InputName,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<ModelVersion> GeneratedBy,
    string? IdempotencyKey,
    string? CallbackUrl,
    JobLinks Links)
{
    /// <summary>The webhook's delivery, on <c>GET /v1/jobs/{id}</c> once a job with a callback_url has finished; absent otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JobWebhookResponse? Webhook { get; init; }

    public static JobResponse From(Job job) => new(
        job.Id, SqlJobStore.Name(job.Status), job.Tasks, job.Parameters, job.Attempts, job.Error, job.BatchId, job.InputName,
        job.CreatedAt, job.StartedAt, job.CompletedAt, job.GeneratedBy, job.IdempotencyKey, job.CallbackUrl,
        new JobLinks($"/v1/jobs/{job.Id}", $"/v1/jobs/{job.Id}/result", $"/v1/jobs/{job.Id}/events"));

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}

public sealed record JobLinks(string Self, string Result, string Events);

/// <summary>
/// Where a finished job's webhook stands: <c>pending</c> (attempts so far, and when the next is due), <c>delivered</c>
/// or <c>failed</c> (every attempt was refused), with the last refusal's reason.
/// </summary>
public sealed record JobWebhookResponse(string Id, string Status, int Attempts, string? LastError, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt)
{
    public static JobWebhookResponse From(WebhookDelivery delivery) => new(
        delivery.Id, SqlJobStore.Name(delivery.Status), delivery.Attempts, delivery.LastError,
        delivery.Status == WebhookStatus.Pending ? delivery.NextAttemptAt : null, delivery.DeliveredAt);
}

/// <summary>
/// The answer to a submission. <c>id</c> is the job's id (for a batch, the first job's); <c>ids</c> lists every job,
/// and <c>jobs</c> describes each.
/// </summary>
public sealed record JobSubmissionResponse(string Id, IReadOnlyList<string> Ids, string? BatchId, string Status, IReadOnlyList<JobResponse> Jobs)
{
    public static JobSubmissionResponse From(JobSubmissionResult result) => new(
        result.Jobs[0].Id, result.Jobs.Select(j => j.Id).ToList(), result.BatchId, SqlJobStore.Name(result.Jobs[0].Status),
        result.Jobs.Select(JobResponse.From).ToList());
}

/// <summary>A page of <c>GET /v1/jobs</c>.</summary>
public sealed record JobListResponse(IReadOnlyList<JobResponse> Jobs, string? NextCursor);
