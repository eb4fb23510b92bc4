using System.Text.Json;
using System.Text.Json.Serialization;

namespace Iris.Core.Jobs.Kafka;

/// <summary>
/// A message on the request topic (key: the correlation id). Either names a job already stored (<c>job_id</c>, what
/// Iris itself publishes for HTTP submissions and retries) or carries a new request from a Kafka client (<c>image</c>
/// as base64, <c>tasks</c>, <c>parameters</c>), which becomes a job whose idempotency key is the correlation id, so a
/// redelivered request never makes a second job.
/// </summary>
public sealed record KafkaJobRequest
{
    [JsonPropertyName("correlation_id")] public required string CorrelationId { get; init; }
    [JsonPropertyName("job_id")] public string? JobId { get; init; }
    [JsonPropertyName("image")] public string? Image { get; init; }
    [JsonPropertyName("tasks")] public IReadOnlyList<string>? Tasks { get; init; }
    [JsonPropertyName("parameters")] public IReadOnlyDictionary<string, string>? Parameters { get; init; }

    /// <summary>Retry backoff: the message is not processed before this time (Unix milliseconds).</summary>
    [JsonPropertyName("not_before")] public long? NotBefore { get; init; }

    public static KafkaJobRequest Parse(ReadOnlySpan<byte> utf8)
    {
        KafkaJobRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<KafkaJobRequest>(utf8, KafkaJson.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidJobRequestException($"The Kafka request is not valid JSON: {e.Message}");
        }
        if (request is null || string.IsNullOrWhiteSpace(request.CorrelationId))
            throw new InvalidJobRequestException("A Kafka request needs a correlation_id.", "correlation_id");
        if (request.JobId is null && string.IsNullOrEmpty(request.Image))
            throw new InvalidJobRequestException("A Kafka request needs either job_id or image (base64).", "image");
        return request;
    }

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, KafkaJson.Options);
}

/// <summary>A message on the response topic (key: the request's correlation id), sent when the job finishes.</summary>
public sealed record KafkaJobResponse
{
    [JsonPropertyName("correlation_id")] public required string CorrelationId { get; init; }
    [JsonPropertyName("job_id")] public required string JobId { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("result")] public JsonElement? Result { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("generated_by")] public IReadOnlyList<ModelVersion> GeneratedBy { get; init; } = [];
    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; init; }
    [JsonPropertyName("completed_at")] public DateTimeOffset? CompletedAt { get; init; }

    public static KafkaJobResponse From(Job job, string correlationId) => new()
    {
        CorrelationId = correlationId,
        JobId = job.Id,
        Status = SqlJobStore.Name(job.Status),
        Result = job.Result is null ? null : JsonDocument.Parse(job.Result).RootElement.Clone(),
        Error = job.Error,
        GeneratedBy = job.GeneratedBy,
        CreatedAt = job.CreatedAt,
        CompletedAt = job.CompletedAt,
    };

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, KafkaJson.Options);

    public static KafkaJobResponse Parse(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize<KafkaJobResponse>(utf8, KafkaJson.Options) ?? throw new JsonException("empty response");
}

internal static class KafkaJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
