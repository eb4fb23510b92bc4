namespace Iris.Configuration;

/// <summary>The image library (issue #10): ingest, indexing and search.</summary>
public sealed class LibraryOptions
{
    /// <summary>The vector index: <c>embedded</c> (exact, in-process, persisted in SQLite) or <c>pgvector</c>.</summary>
    public string Index { get; init; } = "embedded";

    /// <summary>The embedded index's SQLite file (its own file, beside the job database).</summary>
    public string IndexDatabase { get; init; } = "data/vectors.db";

    /// <summary>Threads one embedded search may scan with; 0 = one per core.</summary>
    public int IndexThreads { get; init; }

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
