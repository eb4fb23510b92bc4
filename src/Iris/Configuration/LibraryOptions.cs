namespace Iris.Configuration;

/// <summary>The image library (issue #10): ingest, indexing and search.</summary>
public sealed class LibraryOptions
{
    /// <summary>The vector index: <c>embedded</c> (exact, in-process, persisted in SQLite) or <c>pgvector</c>.</summary>
    public string Index { get; init; } = "embedded";

    /// <summary>
    /// Comma-separated analysis tasks indexing runs on each image: <c>embed</c> (CLIP vector, semantic search),
    /// <c>describe</c> (caption), <c>ocr</c>, <c>detect</c> (labels), <c>faces</c> (face count). EXIF capture time, size
    /// and the perceptual hash are always kept.
    /// </summary>
    public string IndexTasks { get; init; } = "embed,describe,ocr,detect,faces";

    public IReadOnlyList<string> IndexTaskList => IndexTasks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Most differing bits (of 64) between two perceptual hashes that <c>dedupe=true</c> collapses as near-duplicates.</summary>
    public int NearDuplicateDistance { get; init; } = 6;

    /// <summary>The most hits one search answers (<c>k</c>).</summary>
    public int MaxK { get; init; } = 1000;

    public Iris.Core.Library.LibrarySettings Settings() => new(IndexTaskList, NearDuplicateDistance, MaxK);
}
