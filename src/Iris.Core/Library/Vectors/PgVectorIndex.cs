using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace Iris.Core.Library.Vectors;

/// <summary>How <see cref="PgVectorIndex"/> builds and searches its HNSW indexes.</summary>
/// <param name="EfSearch">hnsw.ef_search: candidates kept per query (raised to k when k is larger; pgvector caps it at 1000).</param>
/// <param name="ExactBelow">A filtered query that fewer rows than this pass is answered by an exact scan of those rows.</param>
/// <param name="M">HNSW graph degree.</param>
/// <param name="EfConstruction">HNSW build-time candidate list.</param>
/// <param name="Schema">The schema that holds the index's tables (created when missing).</param>
public sealed record PgVectorSettings(int EfSearch = 200, int ExactBelow = 20_000, int M = 16, int EfConstruction = 64, string Schema = "public");

/// <summary>
/// The vector index at scale: PostgreSQL with pgvector, one table per embedding space (a column typed
/// <c>vector(dimensions)</c>, so each space gets its own HNSW index over inner product) and the attributes as columns,
/// so every filter runs in SQL.
/// <para>
/// Full pages under filters: pgvector applies a WHERE after its HNSW scan, which alone returns short pages (Immich's
/// "3 of 10 rows"). So a filtered query first counts the rows that pass (b-tree and GIN indexes make this cheap); when
/// fewer than <see cref="PgVectorSettings.ExactBelow"/> pass, it ranks exactly those rows (exact, and fast because
/// they are few); otherwise it runs the HNSW scan with pgvector 0.8's <c>hnsw.iterative_scan</c>, which keeps
/// walking the graph until the page is full. Should a page still come back short of what passes, it falls back to
/// the exact scan, so a page is never short.
/// </para>
/// </summary>
public sealed class PgVectorIndex : IVectorIndex, IAsyncDisposable
{
    private const string Registry = """
        CREATE EXTENSION IF NOT EXISTS vector;
        CREATE SCHEMA IF NOT EXISTS {0};
        CREATE TABLE IF NOT EXISTS {0}.iris_vector_spaces (
            key        text PRIMARY KEY,
            table_name text NOT NULL,
            model      text NOT NULL,
            version    text NOT NULL,
            dimensions integer NOT NULL
        );
        """;

    private readonly string _schema;
    private readonly NpgsqlDataSource _dataSource;
    private readonly PgVectorSettings _settings;
    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private bool _registryReady;

    public PgVectorIndex(string connectionString, PgVectorSettings? settings = null)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        _dataSource = builder.Build();
        _settings = settings ?? new PgVectorSettings();
        if (!System.Text.RegularExpressions.Regex.IsMatch(_settings.Schema, "^[a-z_][a-z0-9_]*$"))
            throw new ArgumentException($"The schema name '{_settings.Schema}' must be a plain lower-case SQL identifier.", nameof(settings));
        _schema = _settings.Schema;
    }

    /// <summary>The table of a space: a hash of its key, so any model name makes a valid identifier.</summary>
    private static string BareTableName(EmbeddingSpace space) => "iris_vectors_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(space.Key)))[..16];

    public async Task UpsertAsync(EmbeddingSpace space, string imageId, ReadOnlyMemory<float> vector, VectorAttributes attributes, CancellationToken ct) =>
        await UpsertManyAsync(space, [new VectorEntry(imageId, vector, attributes)], ct);

    /// <summary>Adds or replaces many vectors in one transaction.</summary>
    public async Task UpsertManyAsync(EmbeddingSpace space, IReadOnlyList<VectorEntry> entries, CancellationToken ct)
    {
        VectorChecks.Entries(space, entries);
        var table = await EnsureSpaceAsync(space, ct);
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        foreach (var chunk in entries.Chunk(500))
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var entry in chunk)
            {
                var command = new NpgsqlBatchCommand($"""
                    INSERT INTO {table} (image_id, embedding, owner, collection, captured_at, face_count, labels)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    ON CONFLICT (image_id) DO UPDATE SET embedding = excluded.embedding, owner = excluded.owner,
                        collection = excluded.collection, captured_at = excluded.captured_at,
                        face_count = excluded.face_count, labels = excluded.labels
                    """);
                var a = entry.Attributes;
                command.Parameters.Add(new NpgsqlParameter { Value = entry.ImageId });
                command.Parameters.Add(new NpgsqlParameter { Value = new Vector(entry.Vector) });
                command.Parameters.Add(new NpgsqlParameter { Value = a.Owner });
                command.Parameters.Add(new NpgsqlParameter { Value = a.Collection });
                command.Parameters.Add(new NpgsqlParameter { Value = a.CapturedAt is { } at ? at.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter { Value = a.FaceCount });
                command.Parameters.Add(new NpgsqlParameter { Value = a.Labels.Select(l => l.ToLowerInvariant()).Distinct().ToArray() });
                batch.BatchCommands.Add(command);
            }
            await batch.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// Loads many batches into a space with its HNSW index dropped, then builds the index once: far faster than
    /// growing the graph row by row (an import, or re-embedding a collection after a model change). Searches during
    /// the load are exact scans.
    /// </summary>
    public async Task BulkLoadAsync(EmbeddingSpace space, IEnumerable<IReadOnlyList<VectorEntry>> batches, CancellationToken ct)
    {
        var table = await EnsureSpaceAsync(space, ct);
        var hnsw = $"{_schema}.{BareTableName(space)}_hnsw";
        await using (var drop = _dataSource.CreateCommand($"DROP INDEX IF EXISTS {hnsw}"))
            await drop.ExecuteNonQueryAsync(ct);
        foreach (var batch in batches) await UpsertManyAsync(space, batch, ct);
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        // The graph is built in memory when it fits maintenance_work_mem, much faster than on disk.
        await using var build = new NpgsqlCommand($"""
            SET maintenance_work_mem = '1GB';
            CREATE INDEX IF NOT EXISTS {BareTableName(space)}_hnsw ON {table} USING hnsw (embedding vector_ip_ops)
                WITH (m = {_settings.M}, ef_construction = {_settings.EfConstruction});
            RESET maintenance_work_mem;
            """, connection) { CommandTimeout = 0 };
        await build.ExecuteNonQueryAsync(ct);
    }

    public async Task DeleteAsync(string imageId, CancellationToken ct)
    {
        VectorChecks.ImageId(imageId);
        await EnsureRegistryAsync(ct);
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        foreach (var table in await TablesAsync(connection, ct))
        {
            await using var delete = new NpgsqlCommand($"DELETE FROM {table} WHERE image_id = $1", connection, transaction);
            delete.Parameters.Add(new NpgsqlParameter { Value = imageId });
            await delete.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(EmbeddingSpace space, ReadOnlyMemory<float> query, int k, VectorFilter filter, CancellationToken ct)
    {
        VectorChecks.Vector(space, query.Span, "query vector");
        VectorChecks.K(k);
        ArgumentNullException.ThrowIfNull(filter);
        var table = await ExistingTableAsync(space, ct);
        if (table is null) return [];
        var (where, parameters) = Where(filter);
        var vector = new Vector(query);
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        long? passing = null;
        if (where.Length > 0)
        {
            // $1 (the query vector) goes along unused, so the filter's parameters keep their numbers.
            await using var count = Command($"SELECT count(*) FROM {table} WHERE {where}", connection, transaction, vector, parameters);
            passing = (long)(await count.ExecuteScalarAsync(ct))!;
            if (passing == 0) return [];
            if (passing < _settings.ExactBelow) return await ExactAsync(connection, transaction, table, where, parameters, vector, k, ct);
        }

        var efSearch = Math.Clamp(Math.Max(_settings.EfSearch, k), 1, 1000);
        await using (var set = new NpgsqlCommand(
            $"SET LOCAL hnsw.ef_search = {efSearch}; SET LOCAL hnsw.iterative_scan = relaxed_order;", connection, transaction))
            await set.ExecuteNonQueryAsync(ct);
        // relaxed_order may return rows slightly out of order; the outer ORDER BY sorts the page exactly.
        var hits = await QueryAsync(connection, transaction, $"""
            SELECT image_id, score FROM (
                SELECT image_id, -(embedding <#> $1) AS score FROM {table}
                {(where.Length > 0 ? "WHERE " + where : "")}
                ORDER BY embedding <#> $1 LIMIT {k}) page
            ORDER BY score DESC
            """, vector, parameters, ct);
        if (hits.Count < k)
        {
            passing ??= await CountAsync(connection, transaction, table, ct);
            if (hits.Count < passing) return await ExactAsync(connection, transaction, table, where, parameters, vector, k, ct);
        }
        return hits;
    }

    private static Task<List<VectorHit>> ExactAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, string where,
        IReadOnlyList<(object Value, NpgsqlDbType Type)> parameters, Vector vector, int k, CancellationToken ct) =>
        // MATERIALIZED keeps the planner from answering through the HNSW index: every row that passes is ranked.
        QueryAsync(connection, transaction, $"""
            WITH passing AS MATERIALIZED (SELECT image_id, embedding FROM {table} {(where.Length > 0 ? "WHERE " + where : "")})
            SELECT image_id, -(embedding <#> $1) AS score FROM passing ORDER BY embedding <#> $1 LIMIT {k}
            """, vector, parameters, ct);

    private static async Task<List<VectorHit>> QueryAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, Vector vector,
        IReadOnlyList<(object Value, NpgsqlDbType Type)> parameters, CancellationToken ct)
    {
        await using var command = Command(sql, connection, transaction, vector, parameters);
        var hits = new List<VectorHit>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) hits.Add(new VectorHit(reader.GetString(0), (float)reader.GetDouble(1)));
        return hits;
    }

    private static NpgsqlCommand Command(string sql, NpgsqlConnection connection, NpgsqlTransaction transaction, Vector vector,
        IReadOnlyList<(object Value, NpgsqlDbType Type)> parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = vector });
        foreach (var (value, type) in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value, NpgsqlDbType = type });
        return command;
    }

    /// <summary>The filter as SQL over parameters $2, $3, … (in the exact and HNSW queries, $1 is the query vector).</summary>
    private static (string Where, IReadOnlyList<(object Value, NpgsqlDbType Type)> Parameters) Where(VectorFilter filter)
    {
        var clauses = new List<string>();
        var parameters = new List<(object, NpgsqlDbType)>();
        void Add(string clause, object value, NpgsqlDbType type)
        {
            parameters.Add((value, type));
            clauses.Add(clause.Replace("{p}", "$" + (parameters.Count + 1)));
        }
        if (filter.Owner is not null) Add("owner = {p}", filter.Owner, NpgsqlDbType.Text);
        if (filter.Collection is not null) Add("collection = {p}", filter.Collection, NpgsqlDbType.Text);
        if (filter.Label is not null) Add("labels @> ARRAY[{p}]", filter.Label.ToLowerInvariant(), NpgsqlDbType.Text);
        if (filter.After is { } after) Add("captured_at >= {p}", after.UtcDateTime, NpgsqlDbType.TimestampTz);
        if (filter.Before is { } before) Add("captured_at < {p}", before.UtcDateTime, NpgsqlDbType.TimestampTz);
        if (filter.HasFaces is { } faces) Add("(face_count > 0) = {p}", faces, NpgsqlDbType.Boolean);
        if (filter.ImageIds is { } ids) Add("image_id = ANY({p})", ids.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        return (string.Join(" AND ", clauses), parameters);
    }

    public async Task<float[]?> GetAsync(EmbeddingSpace space, string imageId, CancellationToken ct)
    {
        VectorChecks.Space(space);
        var table = await ExistingTableAsync(space, ct);
        if (table is null) return null;
        await using var command = _dataSource.CreateCommand($"SELECT embedding FROM {table} WHERE image_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = imageId });
        return await command.ExecuteScalarAsync(ct) is Vector vector ? vector.ToArray() : null;
    }

    public async Task<long> CountAsync(EmbeddingSpace space, CancellationToken ct)
    {
        VectorChecks.Space(space);
        var table = await ExistingTableAsync(space, ct);
        if (table is null) return 0;
        await using var command = _dataSource.CreateCommand($"SELECT count(*) FROM {table}");
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection, transaction);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task DropSpaceAsync(EmbeddingSpace space, CancellationToken ct)
    {
        VectorChecks.Space(space);
        await EnsureRegistryAsync(ct);
        var table = $"{_schema}.{BareTableName(space)}";
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {table}", connection, transaction))
            await drop.ExecuteNonQueryAsync(ct);
        await using (var unregister = new NpgsqlCommand($"DELETE FROM {_schema}.iris_vector_spaces WHERE key = $1", connection, transaction))
        {
            unregister.Parameters.Add(new NpgsqlParameter { Value = space.Key });
            await unregister.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    private async Task<string?> ExistingTableAsync(EmbeddingSpace space, CancellationToken ct)
    {
        await EnsureRegistryAsync(ct);
        // Another client may have created or dropped the space: ask the registry, not a cache.
        await using var command = _dataSource.CreateCommand($"SELECT table_name FROM {_schema}.iris_vector_spaces WHERE key = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = space.Key });
        return await command.ExecuteScalarAsync(ct) as string;
    }

    private async Task<List<string>> TablesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"SELECT table_name FROM {_schema}.iris_vector_spaces", connection);
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) tables.Add(reader.GetString(0));
        return tables;
    }

    private async Task<string> EnsureSpaceAsync(EmbeddingSpace space, CancellationToken ct)
    {
        await EnsureRegistryAsync(ct);
        var bare = BareTableName(space);
        var table = $"{_schema}.{bare}";
        // Asked each time, not cached: another client may have dropped the space since.
        if (await ExistingTableAsync(space, ct) is not null) return table;
        await using var connection = await _dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Two clients creating the same space at once: the advisory lock makes the second wait, then find it made.
        await using (var create = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock(hashtext('{table}'));
            CREATE TABLE IF NOT EXISTS {table} (
                image_id    text PRIMARY KEY,
                embedding   vector({space.Dimensions}) NOT NULL,
                owner       text NOT NULL,
                collection  text NOT NULL,
                captured_at timestamptz,
                face_count  integer NOT NULL,
                labels      text[] NOT NULL
            );
            CREATE INDEX IF NOT EXISTS {bare}_hnsw ON {table} USING hnsw (embedding vector_ip_ops)
                WITH (m = {_settings.M}, ef_construction = {_settings.EfConstruction});
            CREATE INDEX IF NOT EXISTS {bare}_owner ON {table} (owner);
            CREATE INDEX IF NOT EXISTS {bare}_collection ON {table} (collection);
            CREATE INDEX IF NOT EXISTS {bare}_captured ON {table} (captured_at);
            CREATE INDEX IF NOT EXISTS {bare}_labels ON {table} USING gin (labels);
            """, connection, transaction))
            await create.ExecuteNonQueryAsync(ct);
        // A statement with $n parameters must travel alone (the extended protocol prepares one statement at a time).
        await using (var register = new NpgsqlCommand($"""
            INSERT INTO {_schema}.iris_vector_spaces (key, table_name, model, version, dimensions) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (key) DO NOTHING
            """, connection, transaction))
        {
            register.Parameters.Add(new NpgsqlParameter { Value = space.Key });
            register.Parameters.Add(new NpgsqlParameter { Value = table });
            register.Parameters.Add(new NpgsqlParameter { Value = space.Model });
            register.Parameters.Add(new NpgsqlParameter { Value = space.Version });
            register.Parameters.Add(new NpgsqlParameter { Value = space.Dimensions });
            await register.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return table;
    }

    private async Task EnsureRegistryAsync(CancellationToken ct)
    {
        if (_registryReady) return;
        await _schemaGate.WaitAsync(ct);
        try
        {
            if (_registryReady) return;
            await using (var connection = await _dataSource.OpenConnectionAsync(ct))
            await using (var transaction = await connection.BeginTransactionAsync(ct))
            {
                // The transaction-scoped lock: two clients starting together create the schema one after the other.
                await using var create = new NpgsqlCommand(
                    "SELECT pg_advisory_xact_lock(hashtext('iris_vector_spaces'));" + string.Format(Registry, _schema), connection, transaction);
                await create.ExecuteNonQueryAsync(ct);
                await transaction.CommitAsync(ct);
            }
            // The vector type may have just been created: Npgsql must learn its OID before the first query that sends one.
            // (After the connection above is closed: a server that takes one connection at a time would wait forever.)
            await _dataSource.ReloadTypesAsync(ct);
            _registryReady = true;
        }
        finally
        {
            _schemaGate.Release();
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
