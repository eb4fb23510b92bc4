using System.Data.Common;
using Npgsql;

namespace Iris.Core.Jobs.Postgres;

/// <summary>
/// The job store in PostgreSQL, for several API nodes and workers on different machines. Same statements as the
/// SQLite store; migrations are numbered in <c>iris_schema_migrations</c> and serialised with an advisory lock,
/// so nodes starting together migrate once.
/// </summary>
public sealed class PostgresJobStore(string connectionString, TimeProvider? clock = null) : SqlJobStore(clock)
{
    private const long MigrationLock = 0x1815_0005;

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
            created_at      BIGINT  NOT NULL,
            updated_at      BIGINT  NOT NULL,
            started_at      BIGINT,
            completed_at    BIGINT,
            generated_by    TEXT,
            owner           TEXT,
            idempotency_key TEXT,
            callback_url    TEXT,
            worker          TEXT,
            heartbeat_at    BIGINT
        );
        CREATE INDEX jobs_status ON jobs (status, id);
        CREATE INDEX jobs_batch ON jobs (batch_id) WHERE batch_id IS NOT NULL;
        CREATE UNIQUE INDEX jobs_idempotency ON jobs ((coalesce(owner, '')), idempotency_key) WHERE idempotency_key IS NOT NULL;
        """,
        SqlJobStore.WebhookSchema("BIGINT"),
    ];

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken);
        await Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS iris_schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", cancellationToken);
        await using var version = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM iris_schema_migrations", connection, transaction);
        var current = Convert.ToInt32(await version.ExecuteScalarAsync(cancellationToken));
        if (current > Migrations.Length)
            throw new InvalidOperationException($"The job database has schema version {current}, newer than this Iris understands ({Migrations.Length}). Upgrade Iris.");
        for (var i = current; i < Migrations.Length; i++)
        {
            await Execute(connection, transaction, Migrations[i], cancellationToken);
            await Execute(connection, transaction, $"INSERT INTO iris_schema_migrations (version) VALUES ({i + 1})", cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
