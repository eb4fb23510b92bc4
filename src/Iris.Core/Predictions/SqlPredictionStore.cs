using System.Data.Common;

namespace Iris.Core.Predictions;

/// <summary>
/// The prediction history in the SQL that SQLite and PostgreSQL both speak, beside the jobs in the job database. The
/// two differ only in how a uuid and a time are stored (<see cref="Uuid"/>, <see cref="Time"/>): PostgreSQL keeps the
/// old service's column types (uuid, timestamp), so its history can continue in the same table.
/// </summary>
public abstract class SqlPredictionStore(TimeProvider? clock) : IPredictionStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private const string Columns = "uid, image_path, predicted_class, predicted_class_name, confidence, user_uid, created_at, owner";

    /// <summary>
    /// Its own tables rather than a numbered job-database migration: created only when missing, so a <c>predictions</c>
    /// table the old service left in the same database is adopted as it is (the owner column is added to it).
    /// </summary>
    protected abstract Task EnsureSchemaAsync(CancellationToken cancellationToken);

    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>A uuid as this database stores it.</summary>
    protected abstract object Uuid(Guid value);

    /// <summary>A time as this database stores it (microseconds, so a cursor compares exactly).</summary>
    protected abstract object Time(DateTimeOffset value);

    protected abstract Guid ReadUuid(DbDataReader reader, int ordinal);

    protected abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    public Task InitializeAsync(CancellationToken cancellationToken) => EnsureSchemaAsync(cancellationToken);

    public async Task RecordAsync(PendingPrediction pending, CancellationToken cancellationToken)
    {
        var p = pending.Prediction;
        await using var connection = await OpenAsync(cancellationToken);
        await using var insert = Command(connection, """
            INSERT INTO prediction_outbox (uid, image_path, predicted_class, predicted_class_name, confidence, user_uid, created_at, owner,
                image, attempts, next_attempt_at)
            VALUES (@uid, @image_path, @predicted_class, @predicted_class_name, @confidence, @user_uid, @created_at, @owner, @image, 0, @now)
            """, [.. Values(p), ("image", pending.Image), ("now", Now())]);
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PendingPrediction>> ClaimAsync(TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await OpenAsync(cancellationToken);
        // Idle archivers poll: a read first keeps them from taking SQLite's write lock for nothing.
        await using (var peek = Command(connection, "SELECT 1 FROM prediction_outbox WHERE next_attempt_at <= @now LIMIT 1", ("now", now)))
            if (await peek.ExecuteScalarAsync(cancellationToken) is null) return [];
        await using var claim = Command(connection, $"""
            UPDATE prediction_outbox SET attempts = attempts + 1, next_attempt_at = @until
            WHERE uid IN (SELECT uid FROM prediction_outbox WHERE next_attempt_at <= @now ORDER BY next_attempt_at LIMIT @limit)
                AND next_attempt_at <= @now
            RETURNING {Columns}, image, attempts
            """, ("now", now), ("until", now + (long)lease.TotalMilliseconds), ("limit", limit));
        var claimed = new List<PendingPrediction>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            claimed.Add(new PendingPrediction(Read(reader), (byte[])reader.GetValue(8)) { Attempts = Convert.ToInt32(reader.GetValue(9)) });
        return claimed;
    }

    public async Task CompleteAsync(Prediction prediction, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = Command(connection, $"""
            INSERT INTO predictions ({Columns})
            VALUES (@uid, @image_path, @predicted_class, @predicted_class_name, @confidence, @user_uid, @created_at, @owner)
            ON CONFLICT (uid) DO NOTHING
            """, Values(prediction));
        insert.Transaction = transaction;
        await insert.ExecuteNonQueryAsync(cancellationToken);
        await using var delete = Command(connection, "DELETE FROM prediction_outbox WHERE uid = @uid", ("uid", Uuid(prediction.Uid)));
        delete.Transaction = transaction;
        await delete.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task PostponeAsync(Guid uid, DateTimeOffset retryAt, string error, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var update = Command(connection, "UPDATE prediction_outbox SET next_attempt_at = @next, last_error = @error WHERE uid = @uid",
            ("uid", Uuid(uid)), ("next", retryAt.ToUnixTimeMilliseconds()), ("error", error));
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<PredictionPage> ListAsync(PredictionQuery query, CancellationToken cancellationToken)
    {
        // Built from fixed fragments (never from input), like the job list.
        var where = new List<string>();
        var parameters = new List<(string, object?)> { ("limit", query.Limit + 1) };
        if (query.UserUid is { } user) { where.Add("user_uid = @user_uid"); parameters.Add(("user_uid", Uuid(user))); }
        if (query.Owner is { } owner) { where.Add("owner = @owner"); parameters.Add(("owner", owner)); }
        if (query.Cursor is { } cursor)
        {
            where.Add("(created_at < @after_time OR (created_at = @after_time AND uid < @after_uid))");
            parameters.Add(("after_time", Time(cursor.CreatedAt)));
            parameters.Add(("after_uid", Uuid(cursor.Uid)));
        }
        var sql = $"SELECT {Columns} FROM predictions {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} " +
                  "ORDER BY created_at DESC, uid DESC LIMIT @limit";
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters.ToArray());
        var rows = new List<Prediction>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(Read(reader));
        if (rows.Count <= query.Limit) return new PredictionPage(rows, null);
        var last = rows[query.Limit - 1];
        return new PredictionPage(rows.Take(query.Limit).ToList(), new PredictionCursor(last.CreatedAt, last.Uid));
    }

    public async Task<long> CountPendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT count(*) FROM prediction_outbox");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
    }

    private (string, object?)[] Values(Prediction p) =>
    [
        ("uid", Uuid(p.Uid)), ("image_path", p.ImagePath), ("predicted_class", p.PredictedClass), ("predicted_class_name", p.PredictedClassName),
        ("confidence", (double)p.Confidence), ("user_uid", Uuid(p.UserUid)), ("created_at", Time(p.CreatedAt)), ("owner", p.Owner),
    ];

    private Prediction Read(DbDataReader r) => new(
        ReadUuid(r, 0), r.GetString(1), Convert.ToInt32(r.GetValue(2)), r.GetString(3), (float)Convert.ToDouble(r.GetValue(4)),
        ReadUuid(r, 5), ReadTime(r, 6), r.IsDBNull(7) ? null : r.GetString(7));

    private long Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    protected static DbCommand Command(DbConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Jobs.SqlJobStore.Command(connection, sql, parameters);
}
