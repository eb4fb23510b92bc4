using System.Data.Common;
using System.Globalization;
using Iris.Core.Jobs.Sqlite;
using Microsoft.Data.Sqlite;

namespace Iris.Core.Predictions;

/// <summary>
/// The prediction history in the SQLite job database (the default). Uuids are stored as their dashed text and times
/// as <c>yyyy-MM-dd HH:mm:ss.ffffff</c> UTC, the layout SQLModel gave the old service on SQLite, which sorts as text.
/// </summary>
public sealed class SqlitePredictionStore(SqliteJobDatabase database, TimeProvider? clock = null) : SqlPredictionStore(clock)
{
    private const string TimeFormat = "yyyy-MM-dd HH:mm:ss.ffffff";

    /// <summary>The old service's columns, shared by the history and its outbox.</summary>
    private const string PredictionColumns = """
        uid TEXT PRIMARY KEY, image_path TEXT NOT NULL, predicted_class INTEGER NOT NULL, predicted_class_name TEXT NOT NULL,
        confidence REAL NOT NULL, user_uid TEXT NOT NULL, created_at TEXT NOT NULL
        """;

    protected override async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        // Microsoft.Data.Sqlite begins IMMEDIATE: two processes starting together create the tables one after the other.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var create = Command(connection, $"""
            CREATE TABLE IF NOT EXISTS predictions ({PredictionColumns});
            CREATE TABLE IF NOT EXISTS prediction_outbox (
                {PredictionColumns},
                owner                TEXT,
                image                BLOB    NOT NULL,
                attempts             INTEGER NOT NULL DEFAULT 0,
                next_attempt_at      INTEGER NOT NULL,
                last_error           TEXT
            );
            CREATE INDEX IF NOT EXISTS prediction_outbox_due ON prediction_outbox (next_attempt_at);
            """))
        {
            create.Transaction = transaction;
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        bool hasOwner;
        await using (var columns = Command(connection, "SELECT 1 FROM pragma_table_info('predictions') WHERE name = 'owner'"))
        {
            columns.Transaction = transaction;
            hasOwner = await columns.ExecuteScalarAsync(cancellationToken) is not null;
        }
        await using (var owner = Command(connection, (hasOwner ? "" : "ALTER TABLE predictions ADD COLUMN owner TEXT;\n") + """
            CREATE INDEX IF NOT EXISTS predictions_user ON predictions (user_uid, created_at, uid);
            CREATE INDEX IF NOT EXISTS predictions_owner ON predictions (owner, created_at, uid);
            """))
        {
            owner.Transaction = transaction;
            await owner.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await database.OpenAsync(cancellationToken);

    protected override object Uuid(Guid value) => value.ToString("D");

    protected override object Time(DateTimeOffset value) => value.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    protected override Guid ReadUuid(DbDataReader reader, int ordinal) => Guid.Parse(reader.GetString(ordinal));

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        DateTimeOffset.Parse(reader.GetString(ordinal), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
