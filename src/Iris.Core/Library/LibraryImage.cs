using System.Text.Json.Serialization;
using Iris.Core.Jobs;

namespace Iris.Core.Library;

/// <summary>
/// Which model produced each stored field (name and version from the catalog), so a caption or a label is credited without
/// its indexing job (purged by retention, or none: <c>iris library add</c>). Null: the field's task did not run.
/// </summary>
public sealed record FieldModels(ModelVersion? Caption = null, ModelVersion? Labels = null, ModelVersion? OcrText = null, ModelVersion? FaceCount = null,
    ModelVersion? Safety = null);

/// <summary>The <c>moderate</c> task's verdict on an image: safe, or the classes (Porn, Hentai, Sexy) above their thresholds.</summary>
public sealed record ContentSafety(bool Safe, IReadOnlyList<string> Flagged);

/// <summary>Where an image stands in the library: waiting for its indexing job, searchable, or refused with a reason.</summary>
public enum IndexState { Queued, Indexed, Failed }

/// <summary>
/// What indexing keeps of an image for search: the analysis tasks' results reduced to what a query matches or filters on.
/// Null fields were not produced (their task is not in Library:IndexTasks).
/// </summary>
public sealed record IndexedFields
{
    public int Width { get; init; }
    public int Height { get; init; }
    public string? Format { get; init; }

    /// <summary>EXIF DateTimeOriginal (or DateTime), read as UTC since EXIF carries no zone.</summary>
    public DateTimeOffset? CapturedAt { get; init; }

    public string? Caption { get; init; }
    public string? OcrText { get; init; }
    public IReadOnlyList<string> Labels { get; init; } = [];
    public int? FaceCount { get; init; }

    /// <summary>The content-safety verdict; null when <c>moderate</c> is not in Library:IndexTasks (or was not when it was indexed).</summary>
    public ContentSafety? Safety { get; init; }

    /// <summary>64-bit dHash of the upright image (see <see cref="PerceptualHash"/>), hex.</summary>
    public string? PerceptualHash { get; init; }

    /// <summary>SHA-256 of the decoded upright pixels (see <see cref="PixelHash"/>), hex: equal for a re-encode that kept every pixel.</summary>
    public string? PixelHash { get; init; }

    /// <summary>The embedding space (<see cref="Vectors.EmbeddingSpace.Key"/>) the image's vector is in; null without <c>embed</c>.</summary>
    public string? Space { get; init; }

    /// <summary>Which model made the caption, labels, OCR text and face count; kept in its own column (null: indexed before it was recorded).</summary>
    [JsonIgnore]
    public FieldModels? Models { get; init; }

    /// <summary>Milliseconds each task took on this image (decode included as <c>decode</c>).</summary>
    public IReadOnlyDictionary<string, double> TaskMs { get; init; } = new Dictionary<string, double>();
}

/// <summary>One image of the library: stored once under its content id (the first 128 bits of its SHA-256).</summary>
public sealed record LibraryImage
{
    public required string Id { get; init; }

    /// <summary>The caller who added it; null when Iris runs without authentication.</summary>
    public string? Owner { get; init; }

    public string Collection { get; init; } = LibraryImage.DefaultCollection;
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? ExternalId { get; init; }
    public string? FileName { get; init; }
    public required string MediaType { get; init; }
    public long Bytes { get; init; }
    public DateTimeOffset AddedAt { get; init; }
    public IndexState State { get; init; } = IndexState.Queued;
    public string? Error { get; init; }

    /// <summary>The indexing job (the job system's id); null for an image indexed in-process by the CLI.</summary>
    public string? JobId { get; init; }

    public DateTimeOffset? IndexedAt { get; init; }

    /// <summary>What the index holds; null until indexed.</summary>
    public IndexedFields? Fields { get; init; }

    public const string DefaultCollection = "default";
}

/// <summary>One page of a library listing, in the order images were added.</summary>
public sealed record LibraryPage(IReadOnlyList<LibraryImage> Images, string? NextCursor);

/// <summary>What a new image comes with besides its bytes.</summary>
public sealed record IngestRequest(string? Owner, string Collection, IReadOnlyList<string> Tags, string? ExternalId);

/// <summary>One image handed to <see cref="ImageLibrary.IngestAsync"/>.</summary>
public sealed record IngestItem(ReadOnlyMemory<byte> Bytes, string? FileName);

/// <summary>What an ingest did with one image: added, or found already in the library (same bytes, same id).</summary>
public sealed record IngestedImage(LibraryImage Image, bool Created);
