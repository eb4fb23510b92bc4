using System.Data.Common;
using Npgsql;

namespace Iris.Core.Predictions;

/// <summary>
/// The prediction history in the PostgreSQL job database (Jobs:Store=postgres), in the old service's column types
/// (uuid, timestamp), so pointing Iris at that database continues its <c>predictions</c> table.
/// </summary>
public sealed class PostgresPredictionStore(string connectionString, TimeProvider? clock = null) : SqlPredictionStore(clock), IAsyncDisposable
{
    /// <summary>Serialises schema creation across nodes starting together (CREATE … IF NOT EXISTS alone races in PostgreSQL).</summary>
    private const long SchemaLock = 0x1815_0004;

    /// <summary>The old service's columns and types, shared by the history and its outbox.</summary>
    private const string PredictionColumns = """
        uid UUID PRIMARY KEY, image_path TEXT NOT NULL, predicted_class INTEGER NOT NULL, predicted_class_name TEXT NOT NULL,
        confidence DOUBLE PRECISION NOT NULL, user_uid UUID NOT NULL, created_at TIMESTAMPTZ NOT NULL
        """;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    protected override async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var create = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock({SchemaLock});
            CREATE TABLE IF NOT EXISTS predictions ({PredictionColumns});
            ALTER TABLE predictions ADD COLUMN IF NOT EXISTS owner TEXT;
            CREATE INDEX IF NOT EXISTS predictions_user ON predictions (user_uid, created_at, uid);
            CREATE INDEX IF NOT EXISTS predictions_owner ON predictions (owner, created_at, uid);
            CREATE TABLE IF NOT EXISTS prediction_outbox (
                {PredictionColumns},
                owner                TEXT,
                image                BYTEA            NOT NULL,
                attempts             INTEGER          NOT NULL DEFAULT 0,
                next_attempt_at      BIGINT           NOT NULL,
                last_error           TEXT
            );
            CREATE INDEX IF NOT EXISTS prediction_outbox_due ON prediction_outbox (next_attempt_at);
            """, connection, transaction);
        await create.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override object Uuid(Guid value) => value;

    protected override object Time(DateTimeOffset value) => new DateTime(value.UtcTicks - value.UtcTicks % 10, DateTimeKind.Utc);

    protected override Guid ReadUuid(DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    // A column of the old service's table may be timestamp without time zone; its values were written in UTC.
    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
