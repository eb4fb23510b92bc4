using Iris.Core.Jobs;
using Iris.Core.Library;
using Iris.Core.Library.Vectors;
using System.Text.Json.Serialization;

namespace Iris.Contracts;

/// <summary>POST /v1/images: one entry per image sent, in order.</summary>
public sealed record IngestResponse(IReadOnlyList<IngestedImageResponse> Images);

/// <param name="Created">False when the same bytes were already in the library (same id; not indexed again).</param>
public sealed record IngestedImageResponse(string ImageId, string State, string? JobId, bool Created, string Url)
{
    public static IngestedImageResponse From(IngestedImage ingested, Func<string, string> urlOf) => new(
        ingested.Image.Id, ImageResponse.StateName(ingested.Image.State), ingested.Image.JobId, ingested.Created, urlOf(ingested.Image.Id));
}

/// <summary>GET /v1/images: newest first.</summary>
public sealed record ImageListResponse(IReadOnlyList<ImageResponse> Images, string? NextCursor);

/// <summary>What indexing kept of an image (null fields: their task is not in Library:IndexTasks).</summary>
public sealed record ImageIndexResponse(
    string? Space, bool HasVector, string? Caption, string? OcrText, IReadOnlyList<string> Labels, int? FaceCount, DateTimeOffset? CapturedAt,
    int Width, int Height, string? Format, string? PerceptualHash, IReadOnlyDictionary<string, double> TaskMs, FieldModelsResponse? Models,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ContentSafety? Safety = null);

/// <summary>
/// The model (name, version) that produced each field of the index entry; null for a field whose task did not run, and
/// <c>models</c> itself null for an image indexed before Iris recorded it (reindexing it fills it in).
/// </summary>
public sealed record FieldModelsResponse(ModelVersion? Caption, ModelVersion? Labels, ModelVersion? OcrText, ModelVersion? FaceCount)
{
    public static FieldModelsResponse? From(FieldModels? models) =>
        models is null ? null : new(models.Caption, models.Labels, models.OcrText, models.FaceCount);
}

/// <summary>One library image: its metadata, index state (<c>queued</c>, <c>indexed</c>, <c>failed</c> with <c>error</c>) and index entry.</summary>
public sealed record ImageResponse(
    string ImageId, string Url, string Collection, IReadOnlyList<string> Tags, string? ExternalId, string? FileName, string MediaType, long Bytes,
    DateTimeOffset AddedAt, string State, string? Error, string? JobId, DateTimeOffset? IndexedAt, ImageIndexResponse? Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ImageDuplicatesResponse? Duplicates = null)
{
    /// <param name="urlOf">The image's URL: <c>/images/{id}</c>, signed when access control is on (see README).</param>
    public static ImageResponse From(LibraryImage image, Func<string, string> urlOf, bool? hasVector = null) => new(
        image.Id, urlOf(image.Id), image.Collection, image.Tags, image.ExternalId, image.FileName, image.MediaType, image.Bytes, image.AddedAt,
        StateName(image.State), image.Error, image.JobId, image.IndexedAt,
        image.Fields is not { } f ? null : new ImageIndexResponse(
            f.Space, hasVector ?? f.Space is not null, f.Caption, f.OcrText, f.Labels, f.FaceCount, f.CapturedAt, f.Width, f.Height, f.Format, f.PerceptualHash, f.TaskMs,
            FieldModelsResponse.From(f.Models), f.Safety));

    public static string StateName(IndexState state) => state.ToString().ToLowerInvariant();
}

/// <summary>GET/POST /v1/search: hits best first (or newest first with sort=date), and the cursor of the next page.</summary>
public sealed record SearchResponse(IReadOnlyList<SearchHitResponse> Hits, string? NextCursor, string Mode, EmbeddingSpaceResponse? Space);

/// <param name="Score">Calibrated, 0..1 (see README, Search): Φ of the cosine under the space's null distribution (semantic), the share of query words matched (text), the larger of both (hybrid); 0.5 is chance.</param>
/// <param name="Similarity">The CLIP cosine similarity of the query and the image, when the image was a semantic candidate.</param>
/// <param name="Matched">The fields that matched: <c>embedding</c>, <c>caption</c>, <c>ocr_text</c>, <c>labels</c>, <c>tags</c>.</param>
public sealed record SearchHitResponse(
    string ImageId, float Score, float? Similarity, IReadOnlyList<string> Matched, string Url, string Collection, string? Caption,
    IReadOnlyList<string> Labels, DateTimeOffset? CapturedAt)
{
    public static SearchHitResponse From(SearchHit hit, Func<string, string> urlOf) => new(
        hit.Image.Id, hit.Score, hit.Similarity, hit.Matched, urlOf(hit.Image.Id), hit.Image.Collection, hit.Image.Fields?.Caption,
        hit.Image.Fields?.Labels ?? [], hit.Image.Fields?.CapturedAt);
}

public sealed record EmbeddingSpaceResponse(string Model, string Version, int Dimensions)
{
    public static EmbeddingSpaceResponse? From(EmbeddingSpace? space) => space is null ? null : new(space.Model, space.Version, space.Dimensions);
}

/// <summary>GET /v1/library/status: the indexing progress of a collection (null: the whole library) and the embedding spaces.</summary>
/// <param name="Space">The embedding space search uses (null until the first image is embedded).</param>
/// <param name="Reindex">The space <c>iris library reindex</c> is building beside it; null when no reindex is in progress.</param>
public sealed record LibraryStatusResponse(
    string? Collection, long Queued, long Indexed, long Failed, long Total, EmbeddingSpaceResponse? Space, ReindexStatusResponse? Reindex)
{
    public static LibraryStatusResponse From(LibraryStatus status) => new(
        status.Collection, status.Queued, status.Indexed, status.Failed, status.Total, EmbeddingSpaceResponse.From(status.Spaces.Active),
        status.Spaces.Pending is { } pending ? new ReindexStatusResponse(EmbeddingSpaceResponse.From(pending)!) : null);
}

public sealed record ReindexStatusResponse(EmbeddingSpaceResponse Target);
