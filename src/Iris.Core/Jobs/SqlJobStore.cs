using System.Data.Common;
using System.Text.Json;

namespace Iris.Core.Jobs;

/// <summary>
/// The job store in plain SQL that SQLite and PostgreSQL both speak (RETURNING, ON CONFLICT, partial indexes), so
/// both backends share one set of state transitions. Every transition is one conditional UPDATE: the WHERE clause
/// is the state machine, and the affected-row count says whether this caller won.
/// </summary>
public abstract class SqlJobStore : IJobStore
{
    private const string Columns =
        "id, status, tasks, parameters, input_ref, input_name, batch_id, result, error, attempts, created_at, updated_at, " +
        "started_at, completed_at, generated_by, owner, idempotency_key, callback_url, worker, heartbeat_at";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public async Task<(IReadOnlyList<Job> Jobs, bool Created)> CreateAsync(IReadOnlyList<Job> jobs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var job in jobs)
        {
            await using var insert = Command(connection, $"""
                INSERT INTO jobs ({Columns}) VALUES (@id, @status, @tasks, @parameters, @input_ref, @input_name, @batch_id, NULL, NULL, 0,
                    @created_at, @created_at, NULL, NULL, NULL, @owner, @idempotency_key, @callback_url, NULL, NULL)
                ON CONFLICT DO NOTHING
                """,
                ("id", job.Id), ("status", Name(JobStatus.Queued)), ("tasks", JsonSerializer.Serialize(job.Tasks, Json)),
                ("parameters", JsonSerializer.Serialize(job.Parameters, Json)), ("input_ref", job.InputRef), ("input_name", job.InputName),
                ("batch_id", job.BatchId), ("created_at", job.CreatedAt.ToUnixTimeMilliseconds()), ("owner", job.Owner),
                ("idempotency_key", job.IdempotencyKey), ("callback_url", job.CallbackUrl));
            insert.Transaction = transaction;
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                var existing = new List<Job>();
                foreach (var j in jobs)
                    if (j.IdempotencyKey is not null && await FindByIdempotencyKeyAsync(j.Owner, j.IdempotencyKey, cancellationToken) is { } found)
                        existing.Add(found);
                return (existing, false);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return ((await Task.WhenAll(jobs.Select(j => GetAsync(j.Id, cancellationToken)))).Select(j => j!).ToList(), true);
    }

    public Task<Job?> GetAsync(string id, CancellationToken cancellationToken) =>
        QuerySingleAsync($"SELECT {Columns} FROM jobs WHERE id = @id", cancellationToken, ("id", id));

    public Task<Job?> FindByIdempotencyKeyAsync(string? owner, string key, CancellationToken cancellationToken) =>
        QuerySingleAsync($"SELECT {Columns} FROM jobs WHERE coalesce(owner, '') = @owner AND idempotency_key = @key",
            cancellationToken, ("owner", owner ?? ""), ("key", key));

    public async Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        // Built from fixed fragments (never from input) so no parameter needs a type PostgreSQL cannot infer from NULL.
        var where = new List<string>();
        var parameters = new List<(string, object?)> { ("limit", query.Limit + 1) };
        if (query.Status is { } status) { where.Add("status = @status"); parameters.Add(("status", Name(status))); }
        if (query.BatchId is { } batch) { where.Add("batch_id = @batch"); parameters.Add(("batch", batch)); }
        if (query.Cursor is { } cursor) { where.Add("id < @cursor"); parameters.Add(("cursor", cursor)); }
        var sql = $"SELECT {Columns} FROM jobs {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY id DESC LIMIT @limit";
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters.ToArray());
        var jobs = await ReadAllAsync(command, cancellationToken);
        return jobs.Count > query.Limit
            ? new JobPage(jobs.Take(query.Limit).ToList(), jobs[query.Limit - 1].Id)
            : new JobPage(jobs, null);
    }

    public async Task<long> CountAsync(JobStatus status, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT count(*) FROM jobs WHERE status = @status", ("status", Name(status)));
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
    }

    public Task<Job?> TryStartAsync(string id, string worker, TimeSpan staleAfter, CancellationToken cancellationToken)
    {
        var now = Now();
        return QuerySingleAsync($"""
            UPDATE jobs SET status = 'processing', worker = @worker, heartbeat_at = @now, attempts = attempts + 1,
                started_at = coalesce(started_at, @now), updated_at = @now
            WHERE id = @id AND (status = 'queued' OR (status = 'processing' AND heartbeat_at < @stale))
            RETURNING {Columns}
            """, cancellationToken, ("id", id), ("worker", worker), ("now", now), ("stale", now - (long)staleAfter.TotalMilliseconds));
    }

    public Task<bool> HeartbeatAsync(string id, string worker, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE jobs SET heartbeat_at = @now WHERE id = @id AND status = 'processing' AND worker = @worker",
            cancellationToken, ("id", id), ("worker", worker), ("now", Now()));

    public Task<bool> CompleteAsync(string id, string worker, string result, IReadOnlyList<ModelVersion> generatedBy, CancellationToken cancellationToken) =>
        ExecuteAsync("""
            UPDATE jobs SET status = 'done', result = @result, generated_by = @generated_by, error = NULL, completed_at = @now,
                updated_at = @now, worker = NULL, heartbeat_at = NULL
            WHERE id = @id AND status = 'processing' AND worker = @worker
            """, cancellationToken, ("id", id), ("worker", worker), ("now", Now()), ("result", result),
            ("generated_by", JsonSerializer.Serialize(generatedBy, Json)));

    public Task<bool> FailAsync(string id, string worker, string error, CancellationToken cancellationToken) =>
        ExecuteAsync("""
            UPDATE jobs SET status = 'failed', error = @error, completed_at = @now, updated_at = @now, worker = NULL, heartbeat_at = NULL
            WHERE id = @id AND status = 'processing' AND worker = @worker
            """, cancellationToken, ("id", id), ("worker", worker), ("now", Now()), ("error", error));

    public Task<bool> RequeueAsync(string id, string worker, string? error, bool countAttempt, CancellationToken cancellationToken) =>
        ExecuteAsync($"""
            UPDATE jobs SET status = 'queued', error = @error, attempts = attempts - {(countAttempt ? 0 : 1)}, updated_at = @now,
                worker = NULL, heartbeat_at = NULL
            WHERE id = @id AND status = 'processing' AND worker = @worker
            """, cancellationToken, ("id", id), ("worker", worker), ("now", Now()), ("error", error));

    public async Task<IReadOnlyList<Job>> ListStaleAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"""
            SELECT {Columns} FROM jobs
            WHERE (status = 'queued' AND updated_at < @before) OR (status = 'processing' AND heartbeat_at < @before)
            ORDER BY id LIMIT @limit
            """, ("before", before.ToUnixTimeMilliseconds()), ("limit", limit));
        return await ReadAllAsync(command, cancellationToken);
    }

    public Task<bool> TouchAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE jobs SET updated_at = @now WHERE id = @id AND status = 'queued'", cancellationToken, ("id", id), ("now", Now()));

    public Task<bool> CancelAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE jobs SET status = 'canceled', completed_at = @now, updated_at = @now WHERE id = @id AND status = 'queued'",
            cancellationToken, ("id", id), ("now", Now()));

    public Task<bool> ResubmitAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync("""
            UPDATE jobs SET status = 'queued', attempts = 0, result = NULL, generated_by = NULL, started_at = NULL,
                completed_at = NULL, updated_at = @now
            WHERE id = @id AND status IN ('failed', 'canceled')
            """, cancellationToken, ("id", id), ("now", Now()));

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static string Name(JobStatus status) => status.ToString().ToLowerInvariant();

    private async Task<bool> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private async Task<Job?> QuerySingleAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        return (await ReadAllAsync(command, cancellationToken)).FirstOrDefault();
    }

    private static DbCommand Command(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            if (value is null) parameter.DbType = System.Data.DbType.String;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private static async Task<List<Job>> ReadAllAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var jobs = new List<Job>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            jobs.Add(Read(reader));
        return jobs;
    }

    private static Job Read(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        DateTimeOffset? Time(int i) => r.IsDBNull(i) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i));
        return new Job
        {
            Id = r.GetString(0),
            Status = Enum.Parse<JobStatus>(r.GetString(1), ignoreCase: true),
            Tasks = JsonSerializer.Deserialize<List<string>>(r.GetString(2), Json) ?? [],
            Parameters = JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(3), Json) ?? [],
            InputRef = r.GetString(4),
            InputName = Text(5),
            BatchId = Text(6),
            Result = Text(7),
            Error = Text(8),
            Attempts = Convert.ToInt32(r.GetValue(9)),
            CreatedAt = Time(10)!.Value,
            UpdatedAt = Time(11)!.Value,
            StartedAt = Time(12),
            CompletedAt = Time(13),
            GeneratedBy = Text(14) is { } g ? JsonSerializer.Deserialize<List<ModelVersion>>(g, Json) ?? [] : [],
            Owner = Text(15),
            IdempotencyKey = Text(16),
            CallbackUrl = Text(17),
            Worker = Text(18),
            HeartbeatAt = Time(19),
        };
    }
}
