using System.Data.Common;
using Iris.Core.Jobs.Sqlite;
using Microsoft.Data.Sqlite;

namespace Iris.Core.Library;

/// <summary>The library in the job database's SQLite file; full text in an FTS5 table with the Porter stemmer.</summary>
public sealed class SqliteLibraryStore(SqliteJobDatabase database) : SqlLibraryStore
{
    private const string Schema =
        """
        CREATE TABLE IF NOT EXISTS library_images (
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,
            id          TEXT    NOT NULL UNIQUE,
            owner       TEXT,
            collection  TEXT    NOT NULL,
            tags        TEXT    NOT NULL,
            external_id TEXT,
            file_name   TEXT,
            media_type  TEXT    NOT NULL,
            bytes       INTEGER NOT NULL,
            added_at    INTEGER NOT NULL,
            state       TEXT    NOT NULL,
            error       TEXT,
            job_id      TEXT,
            indexed_at  INTEGER,
            fields      TEXT,
            captured_at INTEGER,
            labels      TEXT,
            face_count  INTEGER,
            caption     TEXT,
            ocr_text    TEXT,
            models      TEXT
        );
        CREATE INDEX IF NOT EXISTS library_images_collection ON library_images (collection, seq);
        CREATE INDEX IF NOT EXISTS library_images_owner ON library_images (owner, seq);
        CREATE VIRTUAL TABLE IF NOT EXISTS library_text USING fts5 (id UNINDEXED, caption, ocr_text, labels, tags, tokenize = 'porter unicode61');
        CREATE TABLE IF NOT EXISTS library_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS library_requests (owner TEXT NOT NULL, key TEXT NOT NULL, image_ids TEXT NOT NULL, PRIMARY KEY (owner, key));
        CREATE TABLE IF NOT EXISTS library_distinct (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b));
        """;

    protected override async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using (var command = Command(connection, Schema + PeopleSchema(real: "REAL", blob: "BLOB", integer: "INTEGER")))
            await command.ExecuteNonQueryAsync(cancellationToken);
        await AddColumnAsync(connection, "models", cancellationToken);
    }

    /// <summary>
    /// Upgrades a library created before <paramref name="column"/> existed (SQLite has no ADD COLUMN IF NOT EXISTS); its
    /// rows keep NULL there. Two processes upgrading at once: the loser's "duplicate column" means the column is there.
    /// </summary>
    private static async Task AddColumnAsync(DbConnection connection, string column, CancellationToken cancellationToken)
    {
        await using (var exists = Command(connection, "SELECT count(*) FROM pragma_table_info('library_images') WHERE name = @name", ("name", column)))
            if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0) return;
        try
        {
            await using var alter = Command(connection, $"ALTER TABLE library_images ADD COLUMN {column} TEXT");
            await alter.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.OrdinalIgnoreCase))
        {
        }
    }

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) => await database.OpenAsync(cancellationToken);

    protected override async Task WriteTextAsync(DbConnection connection, DbTransaction transaction, string id, IndexedFields? fields, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        // FTS5 has no unique key: delete, then insert, in the caller's transaction, so a re-run never adds a second row.
        await using var delete = Command(connection, "DELETE FROM library_text WHERE id = @id", ("id", id));
        delete.Transaction = transaction;
        await delete.ExecuteNonQueryAsync(cancellationToken);
        if (fields is null) return;
        await using var insert = Command(connection, "INSERT INTO library_text (id, caption, ocr_text, labels, tags) VALUES (@id, @caption, @ocr, @labels, @tags)",
            ("id", id), ("caption", fields.Caption ?? ""), ("ocr", fields.OcrText ?? ""), ("labels", string.Join(" ", fields.Labels)), ("tags", string.Join(" ", tags)));
        insert.Transaction = transaction;
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override string TextQuery(string where) =>
        $"SELECT t.id FROM library_text t JOIN library_images i ON i.id = t.id WHERE library_text MATCH @query AND {where} ORDER BY bm25(library_text) LIMIT @limit";

    // Each term quoted (so FTS5 syntax in a query is only text), any of them may match.
    protected override string TextQueryValue(IReadOnlyList<string> terms) => string.Join(" OR ", terms.Select(t => $"\"{t}\""));

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
