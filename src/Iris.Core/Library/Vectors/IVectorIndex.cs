namespace Iris.Core.Library.Vectors;

/// <summary>
/// Which embedding model made a set of vectors. Vectors of different models never share a space: a model change
/// builds a new space beside the old one, and the library switches to it when it is complete.
/// </summary>
public sealed record EmbeddingSpace(string Model, string Version, int Dimensions)
{
    public string Key => $"{Model}@{Version}/{Dimensions}";
}

/// <summary>
/// What a search may filter on, stored beside each vector so that filters apply inside the scan and a filtered query
/// still returns a full page (pgvector's post-filtering after an HNSW scan returns short pages).
/// </summary>
public sealed record VectorAttributes(
    string Owner, string Collection, DateTimeOffset? CapturedAt, int FaceCount, IReadOnlyList<string> Labels);

/// <summary>A search's filters; null fields do not filter. <see cref="ImageIds"/>: only these images (a person's, for example).</summary>
public sealed record VectorFilter(
    string? Owner = null, string? Collection = null, string? Label = null,
    DateTimeOffset? After = null, DateTimeOffset? Before = null, bool? HasFaces = null, IReadOnlySet<string>? ImageIds = null)
{
    public static readonly VectorFilter None = new();
}

/// <summary>One search hit: the cosine similarity of unit vectors (their dot product), best first.</summary>
public sealed record VectorHit(string ImageId, float Score);

/// <summary>A vector whose dimension is not its space's, or that is not finite: refused, never stored.</summary>
public sealed class InvalidVectorException(string message) : Exception(message);

/// <summary>
/// The image library's vector index: exact and in-process by default, PostgreSQL + pgvector at scale. Vectors are
/// unit-normalised by the caller; every implementation passes the same contract tests.
/// </summary>
public interface IVectorIndex
{
    /// <summary>Adds or replaces the image's vector in the space.</summary>
    Task UpsertAsync(EmbeddingSpace space, string imageId, ReadOnlyMemory<float> vector, VectorAttributes attributes, CancellationToken ct);

    /// <summary>Removes the image from every space; a deleted image never comes back in a search.</summary>
    Task DeleteAsync(string imageId, CancellationToken ct);

    /// <summary>The k best hits in the space that pass the filter, best first.</summary>
    Task<IReadOnlyList<VectorHit>> SearchAsync(EmbeddingSpace space, ReadOnlyMemory<float> query, int k, VectorFilter filter, CancellationToken ct);

    /// <summary>The stored vector (for "more like this"), or null.</summary>
    Task<float[]?> GetAsync(EmbeddingSpace space, string imageId, CancellationToken ct);

    Task<long> CountAsync(EmbeddingSpace space, CancellationToken ct);

    /// <summary>Drops a space that is no longer searched (after a model switch).</summary>
    Task DropSpaceAsync(EmbeddingSpace space, CancellationToken ct);
}
