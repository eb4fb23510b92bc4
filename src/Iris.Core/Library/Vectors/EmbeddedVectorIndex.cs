using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Iris.Core.Library.Vectors;

/// <summary>
/// The default vector index: exact search in-process, over vectors persisted in a SQLite file and held in memory
/// (<see cref="SpaceVectors"/>: contiguous float blocks, SIMD dot products, a bounded top-k heap per thread, filters
/// checked inside the scan). Memory: 4 × dimensions bytes per vector (2 KiB at 512-d) plus ~150 bytes of id and
/// attributes; quantised, dimensions + 4 bytes (516 at 512-d) plus the same, and each search re-ranks its
/// <see cref="RerankFactor"/> × k best int8 candidates with their floats read back from SQLite.
/// <para>
/// Several processes may share the file (the API tier and the workers): every write is a SQLite row with a new,
/// ever-growing <c>seq</c> (a deletion writes a tombstone row), and before answering, each process reads the rows past
/// the last seq it applied. <c>PRAGMA data_version</c> on a long-lived connection tells whether anyone committed since
/// the last look, so a search with nothing new costs one pragma. A dropped space is noticed because its row in
/// <c>vector_spaces</c> disappears or comes back with a new id.
/// </para>
/// </summary>
public sealed class EmbeddedVectorIndex : IVectorIndex, IAsyncDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS vector_spaces (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            key        TEXT    NOT NULL UNIQUE,
            model      TEXT    NOT NULL,
            version    TEXT    NOT NULL,
            dimensions INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS vectors (
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,
            space_id    INTEGER NOT NULL,
            image_id    TEXT    NOT NULL,
            vector      BLOB,
            owner       TEXT,
            collection  TEXT,
            captured_at INTEGER,
            face_count  INTEGER,
            labels      TEXT,
            UNIQUE (space_id, image_id)
        );
        CREATE INDEX IF NOT EXISTS vectors_image ON vectors (image_id);
        """;

    private readonly string _connectionString;
    private readonly int _maxThreads;
    private readonly bool _quantize;

    /// <summary>Quantised, a search re-ranks this many times k int8 candidates (plus 16) with their floats.</summary>
    public const int RerankFactor = 4;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly SemaphoreSlim _syncGate = new(1, 1);
    private readonly StringIds _strings = new();
    // Space key → (its row id in vector_spaces, its vectors). A new row id for the same key means it was dropped and made again.
    private readonly Dictionary<string, (long Id, SpaceVectors Vectors)> _spaces = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _keyOfSpaceId = [];
    private SqliteConnection? _watcher;
    private long _appliedSeq;
    private long _dataVersion = -1;

    /// <param name="path">The SQLite file (created with its folder when missing).</param>
    /// <param name="maxThreads">Threads one search may use; 0 = one per core.</param>
    /// <param name="quantize">Hold int8 codes in memory instead of floats, and re-rank with the floats on disk.</param>
    public EmbeddedVectorIndex(string path, int maxThreads = 0, bool quantize = false)
    {
        _quantize = quantize;
        Path = System.IO.Path.GetFullPath(path);
        _maxThreads = maxThreads > 0 ? maxThreads : Environment.ProcessorCount;
        // Pooled, created when missing; another process may hold the write lock, so SQLITE_BUSY is retried for 30 s.
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, DefaultTimeout = 30 }.ToString();
    }

    public string Path { get; }

    public async Task UpsertAsync(EmbeddingSpace space, string imageId, ReadOnlyMemory<float> vector, VectorAttributes attributes, CancellationToken ct) =>
        await UpsertManyAsync(space, [new VectorEntry(imageId, vector, attributes)], ct);

    /// <summary>Adds or replaces many vectors in one transaction (an import or a re-index: one fsync, not thousands).</summary>
    public async Task UpsertManyAsync(EmbeddingSpace space, IReadOnlyList<VectorEntry> entries, CancellationToken ct)
    {
        VectorChecks.Entries(space, entries);
        await using (var connection = await OpenAsync(ct))
        await using (var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct))
        {
            var spaceId = await SpaceIdAsync(connection, transaction, space, create: true, ct);
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            // REPLACE deletes the old row and inserts a new one, so the change gets a new seq that readers pick up.
            insert.CommandText = """
                INSERT OR REPLACE INTO vectors (space_id, image_id, vector, owner, collection, captured_at, face_count, labels)
                VALUES ($space, $image, $vector, $owner, $collection, $captured, $faces, $labels)
                """;
            var pSpace = insert.Parameters.Add("$space", SqliteType.Integer);
            var pImage = insert.Parameters.Add("$image", SqliteType.Text);
            var pVector = insert.Parameters.Add("$vector", SqliteType.Blob);
            var pOwner = insert.Parameters.Add("$owner", SqliteType.Text);
            var pCollection = insert.Parameters.Add("$collection", SqliteType.Text);
            var pCaptured = insert.Parameters.Add("$captured", SqliteType.Integer);
            var pFaces = insert.Parameters.Add("$faces", SqliteType.Integer);
            var pLabels = insert.Parameters.Add("$labels", SqliteType.Text);
            foreach (var entry in entries)
            {
                pSpace.Value = spaceId;
                pImage.Value = entry.ImageId;
                pVector.Value = MemoryMarshal.AsBytes(entry.Vector.Span).ToArray();
                pOwner.Value = entry.Attributes.Owner;
                pCollection.Value = entry.Attributes.Collection;
                pCaptured.Value = entry.Attributes.CapturedAt is { } at ? at.UtcTicks : DBNull.Value;
                pFaces.Value = entry.Attributes.FaceCount;
                pLabels.Value = JsonSerializer.Serialize(entry.Attributes.Labels);
                await insert.ExecuteNonQueryAsync(ct);
            }
            await transaction.CommitAsync(ct);
        }
        await SyncAsync(ct);
    }

    public async Task DeleteAsync(string imageId, CancellationToken ct)
    {
        VectorChecks.ImageId(imageId);
        await using (var connection = await OpenAsync(ct))
        await using (var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct))
        {
            var spaceIds = new List<long>();
            await using (var find = connection.CreateCommand())
            {
                find.Transaction = transaction;
                find.CommandText = "SELECT space_id FROM vectors WHERE image_id = $image AND vector IS NOT NULL";
                find.Parameters.AddWithValue("$image", imageId);
                await using var reader = await find.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) spaceIds.Add(reader.GetInt64(0));
            }
            foreach (var spaceId in spaceIds)
            {
                // A tombstone (no vector) with a new seq: other processes learn of the deletion the way they learn of an upsert.
                await using var tombstone = connection.CreateCommand();
                tombstone.Transaction = transaction;
                tombstone.CommandText = "INSERT OR REPLACE INTO vectors (space_id, image_id) VALUES ($space, $image)";
                tombstone.Parameters.AddWithValue("$space", spaceId);
                tombstone.Parameters.AddWithValue("$image", imageId);
                await tombstone.ExecuteNonQueryAsync(ct);
            }
            await transaction.CommitAsync(ct);
        }
        await SyncAsync(ct);
    }

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(EmbeddingSpace space, ReadOnlyMemory<float> query, int k, VectorFilter filter, CancellationToken ct)
    {
        VectorChecks.Vector(space, query.Span, "query vector");
        VectorChecks.K(k);
        ArgumentNullException.ThrowIfNull(filter);
        await SyncAsync(ct);
        IReadOnlyList<VectorHit> hits;
        long spaceId;
        _lock.EnterReadLock();
        try
        {
            if (!_spaces.TryGetValue(space.Key, out var loaded)) return [];
            spaceId = loaded.Id;
            hits = loaded.Vectors.Search(query.Span, _quantize ? k * RerankFactor + 16 : k, filter, _maxThreads);
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return _quantize ? await RerankAsync(spaceId, hits, query, k, ct) : hits;
    }

    /// <summary>The exact scores of the int8 scan's candidates, from their float vectors on disk; the k best of them.</summary>
    private async Task<IReadOnlyList<VectorHit>> RerankAsync(long spaceId, IReadOnlyList<VectorHit> candidates, ReadOnlyMemory<float> query, int k, CancellationToken ct)
    {
        if (candidates.Count == 0) return candidates;
        var exact = new List<VectorHit>(candidates.Count);
        await using var connection = await OpenAsync(ct);
        await using var read = connection.CreateCommand();
        var names = candidates.Select((_, i) => "$i" + i).ToArray();
        read.CommandText = $"SELECT image_id, vector FROM vectors WHERE space_id = $space AND vector IS NOT NULL AND image_id IN ({string.Join(',', names)})";
        read.Parameters.AddWithValue("$space", spaceId);
        for (var i = 0; i < candidates.Count; i++) read.Parameters.AddWithValue(names[i], candidates[i].ImageId);
        await using var reader = await read.ExecuteReaderAsync(ct);
        // A candidate deleted since the scan has no vector any more, and drops out here.
        while (await reader.ReadAsync(ct))
            exact.Add(new VectorHit(reader.GetString(0),
                System.Numerics.Tensors.TensorPrimitives.Dot(MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(1)), query.Span)));
        return exact.OrderByDescending(hit => hit.Score).ThenBy(hit => hit.ImageId, StringComparer.Ordinal).Take(k).ToArray();
    }

    public async Task<float[]?> GetAsync(EmbeddingSpace space, string imageId, CancellationToken ct)
    {
        VectorChecks.Space(space);
        await SyncAsync(ct);
        long spaceId;
        _lock.EnterReadLock();
        try
        {
            if (!_spaces.TryGetValue(space.Key, out var loaded) || !loaded.Vectors.Contains(imageId)) return null;
            if (!_quantize) return loaded.Vectors.Get(imageId);
            spaceId = loaded.Id;
        }
        finally
        {
            _lock.ExitReadLock();
        }
        // Quantised, memory holds only int8 codes: the floats come from disk.
        await using var connection = await OpenAsync(ct);
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT vector FROM vectors WHERE space_id = $space AND image_id = $image";
        read.Parameters.AddWithValue("$space", spaceId);
        read.Parameters.AddWithValue("$image", imageId);
        return await read.ExecuteScalarAsync(ct) is byte[] bytes ? MemoryMarshal.Cast<byte, float>(bytes).ToArray() : null;
    }

    public async Task<long> CountAsync(EmbeddingSpace space, CancellationToken ct)
    {
        VectorChecks.Space(space);
        await SyncAsync(ct);
        _lock.EnterReadLock();
        try
        {
            return _spaces.TryGetValue(space.Key, out var loaded) ? loaded.Vectors.Count : 0;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public async Task DropSpaceAsync(EmbeddingSpace space, CancellationToken ct)
    {
        VectorChecks.Space(space);
        await using (var connection = await OpenAsync(ct))
        await using (var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct))
        {
            var spaceId = await SpaceIdAsync(connection, transaction, space, create: false, ct);
            if (spaceId is null) return;
            await using var drop = connection.CreateCommand();
            drop.Transaction = transaction;
            drop.CommandText = "DELETE FROM vectors WHERE space_id = $space; DELETE FROM vector_spaces WHERE id = $space;";
            drop.Parameters.AddWithValue("$space", spaceId);
            await drop.ExecuteNonQueryAsync(ct);
            await transaction.CommitAsync(ct);
        }
        await SyncAsync(ct);
    }

    /// <summary>Loads what is on disk (all of it the first time); later calls read only the rows written since.</summary>
    public async Task SyncAsync(CancellationToken ct)
    {
        await _syncGate.WaitAsync(ct);
        try
        {
            if (_watcher is null)
            {
                _watcher = await OpenAsync(ct);
            }
            await using (var version = _watcher.CreateCommand())
            {
                version.CommandText = "PRAGMA data_version";
                var current = (long)(await version.ExecuteScalarAsync(ct))!;
                // data_version changes when another connection (of this process or another) commits: otherwise nothing is new.
                if (current == _dataVersion) return;
                _dataVersion = current;
            }
            // One read transaction: the spaces and the rows are one snapshot (WAL readers do not block the writer).
            await using var transaction = _watcher.BeginTransaction(deferred: true);
            var spaces = new Dictionary<string, (long Id, int Dimensions)>(StringComparer.Ordinal);
            await using (var read = _watcher.CreateCommand())
            {
                read.Transaction = transaction;
                read.CommandText = "SELECT id, key, dimensions FROM vector_spaces";
                await using var reader = await read.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) spaces[reader.GetString(1)] = (reader.GetInt64(0), reader.GetInt32(2));
            }
            ApplySpaces(spaces);
            // Applied in batches while reading: the first load of a million vectors never holds a second copy of them.
            var changes = new List<Change>(ApplyBatch);
            await using (var read = _watcher.CreateCommand())
            {
                read.Transaction = transaction;
                read.CommandText = """
                    SELECT seq, space_id, image_id, vector, owner, collection, captured_at, face_count, labels
                    FROM vectors WHERE seq > $after ORDER BY seq
                    """;
                read.Parameters.AddWithValue("$after", _appliedSeq);
                await using var reader = await read.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var vector = reader.IsDBNull(3) ? null : MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(3)).ToArray();
                    var attributes = vector is null ? null : new VectorAttributes(
                        reader.GetString(4), reader.GetString(5),
                        reader.IsDBNull(6) ? null : new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
                        reader.GetInt32(7), JsonSerializer.Deserialize<string[]>(reader.GetString(8)) ?? []);
                    changes.Add(new Change(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), vector, attributes));
                    if (changes.Count == ApplyBatch)
                    {
                        ApplyChanges(changes);
                        changes.Clear();
                    }
                }
            }
            ApplyChanges(changes);
            await transaction.CommitAsync(ct);
        }
        finally
        {
            _syncGate.Release();
        }
    }

    private const int ApplyBatch = 4096;

    private void ApplySpaces(Dictionary<string, (long Id, int Dimensions)> spaces)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var (key, loaded) in _spaces.ToArray())
                if (!spaces.TryGetValue(key, out var stored) || stored.Id != loaded.Id)
                {
                    _spaces.Remove(key);
                    _keyOfSpaceId.Remove(loaded.Id);
                }
            foreach (var (key, stored) in spaces)
                if (!_spaces.ContainsKey(key))
                {
                    _spaces[key] = (stored.Id, new SpaceVectors(stored.Dimensions, _strings, _quantize));
                    _keyOfSpaceId[stored.Id] = key;
                }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private void ApplyChanges(List<Change> changes)
    {
        if (changes.Count == 0) return;
        _lock.EnterWriteLock();
        try
        {
            foreach (var change in changes)
            {
                _appliedSeq = change.Seq;
                // Rows of a space dropped since they were written belong to no space any more.
                if (!_keyOfSpaceId.TryGetValue(change.SpaceId, out var key)) continue;
                var vectors = _spaces[key].Vectors;
                if (change.Vector is null) vectors.Remove(change.ImageId);
                else vectors.Upsert(change.ImageId, change.Vector, change.Attributes!);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private static async Task<long?> SpaceIdAsync(SqliteConnection connection, SqliteTransaction transaction, EmbeddingSpace space, bool create, CancellationToken ct)
    {
        if (create)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO vector_spaces (key, model, version, dimensions) VALUES ($key, $model, $version, $dimensions)
                ON CONFLICT (key) DO NOTHING
                """;
            insert.Parameters.AddWithValue("$key", space.Key);
            insert.Parameters.AddWithValue("$model", space.Model);
            insert.Parameters.AddWithValue("$version", space.Version);
            insert.Parameters.AddWithValue("$dimensions", space.Dimensions);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = "SELECT id FROM vector_spaces WHERE key = $key";
        select.Parameters.AddWithValue("$key", space.Key);
        return await select.ExecuteScalarAsync(ct) is long id ? id : null;
    }

    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private bool _schemaReady;

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        if (!_schemaReady)
        {
            await _schemaGate.WaitAsync(ct);
            try
            {
                if (!_schemaReady)
                {
                    var directory = System.IO.Path.GetDirectoryName(Path);
                    if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
                    await connection.OpenAsync(ct);
                    await using var schema = connection.CreateCommand();
                    schema.CommandText = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000;" + Schema;
                    await schema.ExecuteNonQueryAsync(ct);
                    _schemaReady = true;
                }
            }
            finally
            {
                _schemaGate.Release();
            }
        }
        if (connection.State != System.Data.ConnectionState.Open) await connection.OpenAsync(ct);
        await using var pragmas = connection.CreateCommand();
        // A committed vector survives a power loss, like a committed job.
        pragmas.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;";
        await pragmas.ExecuteNonQueryAsync(ct);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (_watcher is not null) await _watcher.DisposeAsync();
        _lock.Dispose();
    }

    private sealed record Change(long Seq, long SpaceId, string ImageId, float[]? Vector, VectorAttributes? Attributes);
}

/// <summary>One vector of a bulk upsert (<see cref="EmbeddedVectorIndex.UpsertManyAsync"/>).</summary>
public sealed record VectorEntry(string ImageId, ReadOnlyMemory<float> Vector, VectorAttributes Attributes);
