using System.Text.Json;
using System.Text.Json.Serialization;

namespace Iris.Core.Jobs.Kafka;

/// <summary>Which contract a request on the request topic was written for, and so how it is answered.</summary>
public enum KafkaRequestShape
{
    /// <summary>Iris's request (<c>correlation_id</c>, <c>image</c>, <c>tasks</c>, <c>parameters</c>), answered with a <see cref="KafkaJobResponse"/>.</summary>
    Iris,

    /// <summary>The captioning service's (seed 000) <c>{"request_id", "image_base64"}</c>, answered with a <see cref="KafkaCaptionResponse"/>.</summary>
    CaptionService,
}

/// <summary>
/// A message on the request topic (key: the correlation id). Either names a job already stored (<c>job_id</c>, what
/// Iris itself publishes for HTTP submissions and retries) or carries a new request from a Kafka client (<c>image</c>
/// as base64, <c>tasks</c>, <c>parameters</c>), which becomes a job whose idempotency key is the correlation id, so a
/// redelivered request never makes a second job. A message with <c>request_id</c> or <c>image_base64</c> and neither
/// <c>correlation_id</c> nor <c>job_id</c> is the captioning service's request: its <c>request_id</c> is the correlation
/// id and it runs <c>describe</c>.
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

    /// <summary>The contract the request came in; a captioning service request is never written back to a topic.</summary>
    [JsonIgnore] public KafkaRequestShape Shape { get; init; }

    public static KafkaJobRequest Parse(ReadOnlySpan<byte> utf8)
    {
        using var document = ParseJson(utf8);
        if (ShapeOf(document.RootElement) == KafkaRequestShape.CaptionService)
            return ParseCaptionRequest(document.RootElement);
        KafkaJobRequest? request;
        try
        {
            request = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("correlation_id", out _)
                ? document.RootElement.Deserialize<KafkaJobRequest>(KafkaJson.Options)
                : null;
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

    /// <summary>The contract a message was written for; Iris's when it is not JSON at all.</summary>
    public static KafkaRequestShape ShapeOf(ReadOnlySpan<byte> utf8)
    {
        try
        {
            using var document = ParseJson(utf8);
            return ShapeOf(document.RootElement);
        }
        catch (InvalidJobRequestException)
        {
            return KafkaRequestShape.Iris;
        }
    }

    private static KafkaRequestShape ShapeOf(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && !root.TryGetProperty("correlation_id", out _) && !root.TryGetProperty("job_id", out _)
        && (root.TryGetProperty("request_id", out _) || root.TryGetProperty("image_base64", out _))
            ? KafkaRequestShape.CaptionService
            : KafkaRequestShape.Iris;

    private static JsonDocument ParseJson(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        try
        {
            return JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new InvalidJobRequestException($"The Kafka request is not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// The captioning service's request. Its image may be a data URI, wrapped over lines or short of its padding, as that
    /// service's consumer accepted it.
    /// </summary>
    private static KafkaJobRequest ParseCaptionRequest(JsonElement root)
    {
        var requestId = root.TryGetProperty("request_id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        if (string.IsNullOrWhiteSpace(requestId))
            throw new InvalidJobRequestException("A captioning request needs a request_id (a string).", "request_id");
        var image = root.TryGetProperty("image_base64", out var field) && field.ValueKind == JsonValueKind.String ? field.GetString() : null;
        if (string.IsNullOrWhiteSpace(image))
            throw new InvalidJobRequestException("A captioning request needs image_base64 (base64 or a data:image/…;base64, URI).", "image_base64");
        return new KafkaJobRequest { CorrelationId = requestId, Image = Base64Of(image), Tasks = ["describe"], Shape = KafkaRequestShape.CaptionService };
    }

    private static string Base64Of(string image)
    {
        if (image.StartsWith("data:image", StringComparison.OrdinalIgnoreCase) && image.IndexOf(',') is var comma and >= 0)
            image = image[(comma + 1)..];
        image = image.Trim().Replace("\n", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal);
        return image.Length % 4 == 0 ? image : image + new string('=', 4 - image.Length % 4);
    }

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, KafkaJson.Options);
}

/// <summary>
/// The captioning service's answer on the response topic: <c>{"request_id", "description"}</c>. A request that cannot be
/// captioned (that service logged it and answered nothing) gets <c>description: null</c> and <c>error</c> saying why.
/// </summary>
public sealed record KafkaCaptionResponse
{
    [JsonPropertyName("request_id")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public required string? RequestId { get; init; }
    [JsonPropertyName("description")] [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Description { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }

    public static KafkaCaptionResponse From(Job job, string requestId) => job.Status switch
    {
        JobStatus.Done when ResultDocument.DescriptionOf(job.Result) is { } description => new() { RequestId = requestId, Description = description },
        JobStatus.Done => new() { RequestId = requestId, Error = "The job finished without a caption." },
        JobStatus.Canceled => new() { RequestId = requestId, Error = "The job was canceled." },
        _ => new() { RequestId = requestId, Error = job.Error ?? "The job failed." },
    };

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, KafkaJson.Options);

    public static KafkaCaptionResponse Parse(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize<KafkaCaptionResponse>(utf8, KafkaJson.Options) ?? throw new JsonException("empty response");
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
