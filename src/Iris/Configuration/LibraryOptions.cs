namespace Iris.Configuration;

/// <summary>The image library (issue #10): ingest, indexing and search.</summary>
public sealed class LibraryOptions
{
    /// <summary>The vector index: <c>embedded</c> (exact, in-process, persisted in SQLite) or <c>pgvector</c>.</summary>
    public string Index { get; init; } = "embedded";
}
