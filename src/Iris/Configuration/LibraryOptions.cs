namespace Iris.Configuration;

/// <summary>The image library (issue #10): ingest, indexing and search.</summary>
public sealed class LibraryOptions
{
    /// <summary>The vector index: <c>embedded</c> (exact, in-process, persisted in SQLite) or <c>pgvector</c>.</summary>
    public string Index { get; init; } = "embedded";

    /// <summary>
    /// Comma-separated analysis tasks indexing runs on each image: <c>embed</c> (CLIP vector, semantic search),
    /// <c>describe</c> (caption), <c>ocr</c>, <c>detect</c> (labels), <c>face-embed</c> (faces with identity descriptors:
    /// face count and people) or <c>faces</c> (face count only), <c>moderate</c> (content-safety verdict, for search's
    /// <c>safe_only</c>). EXIF capture time, size and the perceptual hash are always kept.
    /// </summary>
    public string IndexTasks { get; init; } = "embed,describe,ocr,detect,face-embed,moderate";

    public IReadOnlyList<string> IndexTaskList => IndexTasks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Most differing bits (of 64) between two perceptual hashes that <c>dedupe=true</c> collapses as near-duplicates.</summary>
    public int NearDuplicateDistance { get; init; } = 6;

    /// <summary>The most hits one search answers (<c>k</c>).</summary>
    public int MaxK { get; init; } = 1000;

    /// <summary>How long a signed image URL (handed out with access control on and Transforms:SigningKey set) stays valid.</summary>
    public int SignedUrlSeconds { get; init; } = 3600;

    /// <summary>People: faces grouped into people at indexing (Library:People:*).</summary>
    public PeopleOptions People { get; init; } = new();

    public Iris.Core.Library.LibrarySettings Settings() => new(IndexTaskList, NearDuplicateDistance, MaxK);

    /// <summary>The embedded index's SQLite file (its own file, beside the job database).</summary>
    public string IndexDatabase { get; init; } = "data/vectors.db";

    /// <summary>Threads one embedded search may scan with; 0 = one per core.</summary>
    public int IndexThreads { get; init; }

    /// <summary>
    /// The embedded index holds int8 codes (dimensions + 4 bytes a vector) instead of floats (4 × dimensions) and
    /// re-ranks each search's best candidates with the floats from its file.
    /// </summary>
    public bool Quantize { get; init; }

    /// <summary>Npgsql connection string of the PostgreSQL (with the pgvector extension) for <c>Index=pgvector</c>.</summary>
    public string IndexPostgres { get; init; } = "Host=127.0.0.1;Port=5432;Database=iris;Username=iris";

    /// <summary>The PostgreSQL schema of the pgvector index's tables.</summary>
    public string IndexSchema { get; init; } = "public";

    /// <summary>hnsw.ef_search: candidates an HNSW search keeps (raised to k when k is larger).</summary>
    public int IndexEfSearch { get; init; } = 200;

    /// <summary>A filtered pgvector search that fewer rows than this pass is ranked exactly instead of through HNSW.</summary>
    public int IndexExactBelow { get; init; } = 20_000;

    /// <summary>HNSW graph degree (m) of a new space's index.</summary>
    public int IndexHnswM { get; init; } = 16;

    /// <summary>HNSW ef_construction of a new space's index.</summary>
    public int IndexHnswEfConstruction { get; init; } = 64;
}

/// <summary>Library:People:* — how faces are grouped into people (see README, People).</summary>
public sealed class PeopleOptions
{
    /// <summary>Least cosine similarity of faceres descriptors for two faces (or a face and a person) to be one person.</summary>
    public float Threshold { get; init; } = 0.70f;

    /// <summary>Fewest faces a new unnamed person forms from; smaller groups wait for more photos.</summary>
    public int MinFaces { get; init; } = 3;

    /// <summary>Whether indexing an image with faces runs clustering (coalesced); off: only POST /v1/library/people/recluster does.</summary>
    public bool ClusterOnIndex { get; init; } = true;

    public Iris.Core.Library.People.PeopleSettings Settings() =>
        Threshold is > 0 and <= 1 && MinFaces >= 1
            ? new(Threshold, MinFaces, ClusterOnIndex)
            : throw new InvalidOperationException($"Library:People:Threshold must be in (0, 1] and Library:People:MinFaces at least 1; got {Threshold} and {MinFaces}.");
}
