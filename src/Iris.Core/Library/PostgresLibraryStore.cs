using System.Data.Common;
using Npgsql;

namespace Iris.Core.Library;

/// <summary>The library in the PostgreSQL job database; full text in a stored English <c>tsvector</c> with a GIN index.</summary>
public sealed class PostgresLibraryStore(string connectionString) : SqlLibraryStore
{
    private const long SchemaLock = 0x1815_0010;

    private const string Schema =
        """
        CREATE TABLE IF NOT EXISTS library_images (
            seq         BIGSERIAL PRIMARY KEY,
            id          TEXT    NOT NULL UNIQUE,
            owner       TEXT,
            collection  TEXT    NOT NULL,
            tags        TEXT    NOT NULL,
            external_id TEXT,
            file_name   TEXT,
            media_type  TEXT    NOT NULL,
            bytes       BIGINT  NOT NULL,
            added_at    BIGINT  NOT NULL,
            state       TEXT    NOT NULL,
            error       TEXT,
            job_id      TEXT,
            indexed_at  BIGINT,
            fields      TEXT,
            captured_at BIGINT,
            labels      TEXT,
            face_count  BIGINT,
            caption     TEXT,
            ocr_text    TEXT,
            search      TSVECTOR,
            models      TEXT
        );
        -- Libraries created before the models column: added in place, existing rows keep NULL (no credit recorded).
        ALTER TABLE library_images ADD COLUMN IF NOT EXISTS models TEXT;
        CREATE INDEX IF NOT EXISTS library_images_collection ON library_images (collection, seq);
        CREATE INDEX IF NOT EXISTS library_images_owner ON library_images (owner, seq);
        CREATE INDEX IF NOT EXISTS library_images_search ON library_images USING GIN (search);
        CREATE TABLE IF NOT EXISTS library_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS library_requests (owner TEXT NOT NULL, key TEXT NOT NULL, image_ids TEXT NOT NULL, PRIMARY KEY (owner, key));
        CREATE TABLE IF NOT EXISTS library_distinct (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b));
        """;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);
    protected override async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Nodes starting together create the tables once.
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock})", connection, transaction))
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        await using (var schema = new NpgsqlCommand(Schema + PeopleSchema(real: "DOUBLE PRECISION", blob: "BYTEA", integer: "BIGINT"), connection, transaction))
            await schema.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override async Task WriteTextAsync(DbConnection connection, DbTransaction transaction, string id, IndexedFields? fields, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        if (fields is null) return; // the row itself is deleted
        await using var update = Command(connection,
            "UPDATE library_images SET search = to_tsvector('english', @text) WHERE id = @id",
            ("text", string.Join(" ", new[] { fields.Caption ?? "", fields.OcrText ?? "", string.Join(" ", fields.Labels), string.Join(" ", tags) })), ("id", id));
        update.Transaction = transaction;
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override string TextQuery(string where) =>
        $"SELECT i.id FROM library_images i WHERE i.search @@ to_tsquery('english', @query) AND {where} " +
        "ORDER BY ts_rank(i.search, to_tsquery('english', @query)) DESC, i.seq DESC LIMIT @limit";

    // Terms are letters and digits only (SqlLibraryStore.Terms), so they need no quoting in tsquery syntax.
    protected override string TextQueryValue(IReadOnlyList<string> terms) => string.Join(" | ", terms);

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
