using Microsoft.Data.Sqlite;

namespace Iris.Core.Jobs.Sqlite;

/// <summary>
/// The SQLite file shared by <see cref="SqliteJobStore"/> and <see cref="SqliteJobQueue"/>: WAL journal (readers never
/// block the writer, and several processes can share the file), synchronous=FULL (a committed job survives power loss),
/// and numbered migrations recorded in <c>PRAGMA user_version</c>.
/// </summary>
public sealed class SqliteJobDatabase
{
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE jobs (
            id              TEXT PRIMARY KEY,
            status          TEXT    NOT NULL,
            tasks           TEXT    NOT NULL,
            parameters      TEXT    NOT NULL,
            input_ref       TEXT    NOT NULL,
            input_name      TEXT,
            batch_id        TEXT,
            result          TEXT,
            error           TEXT,
            attempts        INTEGER NOT NULL DEFAULT 0,
            created_at      INTEGER NOT NULL,
            updated_at      INTEGER NOT NULL,
            started_at      INTEGER,
            completed_at    INTEGER,
            generated_by    TEXT,
            owner           TEXT,
            idempotency_key TEXT,
            callback_url    TEXT,
            worker          TEXT,
            heartbeat_at    INTEGER
        );
        CREATE INDEX jobs_status ON jobs (status, id);
        CREATE INDEX jobs_batch ON jobs (batch_id) WHERE batch_id IS NOT NULL;
        CREATE UNIQUE INDEX jobs_idempotency ON jobs (coalesce(owner, ''), idempotency_key) WHERE idempotency_key IS NOT NULL;
        """,
        """
        CREATE TABLE job_queue (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id     TEXT    NOT NULL,
            visible_at INTEGER NOT NULL,
            token      TEXT,
            deliveries INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX job_queue_visible ON job_queue (visible_at, seq);
        """,
        SqlJobStore.WebhookSchema("INTEGER"),
    ];

    private readonly SemaphoreSlim _migrated = new(1, 1);
    private bool _ready;

    public SqliteJobDatabase(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY for up to this long: other processes may hold the write lock.
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }
    public string ConnectionString { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureMigratedAsync(cancellationToken);
        return await OpenRawAsync(cancellationToken);
    }

    private async Task<SqliteConnection> OpenRawAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragmas = connection.CreateCommand();
        pragmas.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;";
        await pragmas.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    public async Task EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        if (_ready) return;
        await _migrated.WaitAsync(cancellationToken);
        try
        {
            if (_ready) return;
            var directory = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            await using var connection = await OpenRawAsync(cancellationToken);
            await using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode = WAL;";
                await wal.ExecuteScalarAsync(cancellationToken);
            }
            // BEGIN IMMEDIATE takes the write lock first, so two processes starting together migrate one after the other.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await using var version = connection.CreateCommand();
            version.Transaction = transaction;
            version.CommandText = "PRAGMA user_version;";
            var current = Convert.ToInt32(await version.ExecuteScalarAsync(cancellationToken));
            if (current > Migrations.Length)
                throw new InvalidOperationException(
                    $"The job database {Path} has schema version {current}, newer than this Iris understands ({Migrations.Length}). Upgrade Iris.");
            for (var i = current; i < Migrations.Length; i++)
            {
                await using var migrate = connection.CreateCommand();
                migrate.Transaction = transaction;
                migrate.CommandText = Migrations[i] + $"\nPRAGMA user_version = {i + 1};";
                await migrate.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            _ready = true;
        }
        finally
        {
            _migrated.Release();
        }
    }

}
