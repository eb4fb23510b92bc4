using System.Data.Common;
using System.Text.Json;

namespace Iris.Core.Jobs;

/// <summary>
/// The job store in plain SQL that SQLite and PostgreSQL both speak (RETURNING, ON CONFLICT, partial indexes), so
/// both backends share one set of state transitions. Every transition is one conditional UPDATE: the WHERE clause
/// is the state machine, and the affected-row count says whether this caller won.
/// </summary>
public abstract class SqlJobStore(TimeProvider? clock) : IJobStore, IWebhookOutbox, IJobRetentionStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private const string Columns =
        "id, status, tasks, parameters, input_ref, input_name, batch_id, result, error, attempts, created_at, updated_at, " +
        "started_at, completed_at, generated_by, owner, idempotency_key, callback_url, worker, heartbeat_at";

    private const string WebhookColumns =
        "id, job_id, url, event, attempts, next_attempt_at, status, last_error, created_at, delivered_at";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The migration that adds the webhook outbox (and the index retention deletes by), the same in both databases but
    /// for the type of millisecond timestamps (<paramref name="time"/>: INTEGER in SQLite, BIGINT in PostgreSQL).
    /// </summary>
    public static string WebhookSchema(string time) => $"""
        CREATE TABLE webhook_deliveries (
            id              TEXT    PRIMARY KEY,
            job_id          TEXT    NOT NULL,
            url             TEXT    NOT NULL,
            event           TEXT    NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at {time}  NOT NULL,
            status          TEXT    NOT NULL,
            last_error      TEXT,
            created_at      {time}  NOT NULL,
            delivered_at    {time}
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id, id);
        CREATE INDEX jobs_completed ON jobs (completed_at) WHERE completed_at IS NOT NULL;
        """;

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
        if (query.Owner is { } owner) { where.Add("owner = @owner"); parameters.Add(("owner", owner)); }
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

    public async Task<Job?> TryStartAsync(string id, string worker, TimeSpan staleAfter, int maxAttempts, CancellationToken cancellationToken)
    {
        var now = Now();
        var stale = now - (long)staleAfter.TotalMilliseconds;
        var claimed = await QuerySingleAsync($"""
            UPDATE jobs SET status = 'processing', worker = @worker, heartbeat_at = @now, attempts = attempts + 1,
                started_at = coalesce(started_at, @now), updated_at = @now
            WHERE id = @id AND attempts < @max AND (status = 'queued' OR (status = 'processing' AND heartbeat_at < @stale))
            RETURNING {Columns}
            """, cancellationToken, ("id", id), ("worker", worker), ("now", now), ("stale", stale), ("max", maxAttempts));
        if (claimed is not null) return claimed;
        // Every attempt was counted when it was claimed, and failures stop retrying at the maximum: a claimable job with
        // all its attempts used was left by workers that died in it (a crash, a kill, the OOM killer). Running it again
        // would likely kill this worker too, so it is dead-lettered, keeping an earlier attempt's error if there was one.
        var deadLettered = await FinishAsync(id, JobStatus.Failed, """
            UPDATE jobs SET status = 'failed', error = @died || coalesce('; last error: ' || error, ''), completed_at = @now,
                updated_at = @now, worker = NULL, heartbeat_at = NULL
            WHERE id = @id AND attempts >= @max AND (status = 'queued' OR (status = 'processing' AND heartbeat_at < @stale))
            """, cancellationToken, ("max", maxAttempts), ("stale", stale),
            ("died", $"{IJobStore.WorkerDiedError}; dead-lettered after {maxAttempts} attempt{(maxAttempts == 1 ? "" : "s")}"));
        return deadLettered ? await GetAsync(id, cancellationToken) : null;
    }

    public Task<bool> HeartbeatAsync(string id, string worker, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE jobs SET heartbeat_at = @now WHERE id = @id AND status = 'processing' AND worker = @worker",
            cancellationToken, ("id", id), ("worker", worker), ("now", Now()));

    public Task<bool> CompleteAsync(string id, string worker, string result, IReadOnlyList<ModelVersion> generatedBy, CancellationToken cancellationToken) =>
        FinishAsync(id, JobStatus.Done, """
            UPDATE jobs SET status = 'done', result = @result, generated_by = @generated_by, error = NULL, completed_at = @now,
                updated_at = @now, worker = NULL, heartbeat_at = NULL
            WHERE id = @id AND status = 'processing' AND worker = @worker
            """, cancellationToken, ("worker", worker), ("result", result), ("generated_by", JsonSerializer.Serialize(generatedBy, Json)));

    public Task<bool> FailAsync(string id, string worker, string error, CancellationToken cancellationToken) =>
        FinishAsync(id, JobStatus.Failed, """
            UPDATE jobs SET status = 'failed', error = @error, completed_at = @now, updated_at = @now, worker = NULL, heartbeat_at = NULL
            WHERE id = @id AND status = 'processing' AND worker = @worker
            """, cancellationToken, ("worker", worker), ("error", error));

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

    /// <summary>
    /// Moves a job to its final state with <paramref name="sql"/> (an UPDATE of job <c>@id</c> at time <c>@now</c>) and,
    /// in the same transaction, records the webhook it owes when it has a callback_url: the two commit together or not
    /// at all, so no crash leaves a finished job without its notification.
    /// </summary>
    private async Task<bool> FinishAsync(string id, JobStatus final, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var now = Now();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var update = Command(connection, sql, [("id", id), ("now", now), .. parameters]);
        update.Transaction = transaction;
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }
        await using var outbox = Command(connection, """
            INSERT INTO webhook_deliveries (id, job_id, url, event, attempts, next_attempt_at, status, created_at)
            SELECT @delivery, id, callback_url, @event, 0, @now, 'pending', @now FROM jobs
            WHERE id = @id AND callback_url IS NOT NULL
            """, ("delivery", Job.NewId(_clock)), ("id", id), ("event", "job." + Name(final)), ("now", now));
        outbox.Transaction = transaction;
        await outbox.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<WebhookDelivery>> ClaimWebhooksAsync(TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await OpenAsync(cancellationToken);
        // Idle dispatchers poll: a read first keeps them from taking SQLite's write lock (which the UPDATE would) for nothing.
        await using (var peek = Command(connection, "SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now LIMIT 1", ("now", now)))
            if (await peek.ExecuteScalarAsync(cancellationToken) is null) return [];
        // The outer condition is checked again on each row once any concurrent claim of it has committed, so a row
        // another dispatcher claimed meanwhile (its due time moved ahead) is skipped rather than claimed twice.
        await using var claim = Command(connection, $"""
            UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = @until
            WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @now ORDER BY next_attempt_at LIMIT @limit)
                AND status = 'pending' AND next_attempt_at <= @now
            RETURNING {WebhookColumns}
            """, ("now", now), ("until", now + (long)lease.TotalMilliseconds), ("limit", limit));
        return await ReadWebhooksAsync(claim, cancellationToken);
    }

    public Task<bool> RecordWebhookAsync(string deliveryId, int attempt, WebhookStatus status, DateTimeOffset nextAttemptAt, string? error, CancellationToken cancellationToken) =>
        ExecuteAsync($"""
            UPDATE webhook_deliveries SET status = @status, next_attempt_at = @next, last_error = @error,
                delivered_at = {(status == WebhookStatus.Delivered ? "@now" : "NULL")}
            WHERE id = @id AND status = 'pending' AND attempts = @attempt
            """, cancellationToken, ("id", deliveryId), ("attempt", attempt), ("status", Name(status)),
            ("next", nextAttemptAt.ToUnixTimeMilliseconds()), ("error", error), ("now", Now()));

    public async Task<WebhookDelivery?> GetWebhookAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"SELECT {WebhookColumns} FROM webhook_deliveries WHERE job_id = @job ORDER BY id DESC LIMIT 1", ("job", jobId));
        return (await ReadWebhooksAsync(command, cancellationToken)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<string>> DeleteFinishedAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        // One transaction: the webhooks go with their job. Concurrent sweepers each delete a row once (DELETE skips
        // rows another transaction deleted), so every input reference is returned to exactly one of them.
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var jobs = Command(connection, """
            DELETE FROM jobs
            WHERE id IN (SELECT id FROM jobs j WHERE status IN ('done', 'failed', 'canceled') AND completed_at < @before
                    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w WHERE w.job_id = j.id AND w.status = 'pending')
                    ORDER BY completed_at LIMIT @limit)
                AND status IN ('done', 'failed', 'canceled') AND completed_at < @before
            RETURNING id, input_ref
            """, ("before", before.ToUnixTimeMilliseconds()), ("limit", limit));
        jobs.Transaction = transaction;
        var deleted = new List<(string Id, string Input)>();
        await using (var reader = await jobs.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                deleted.Add((reader.GetString(0), reader.GetString(1)));
        if (deleted.Count > 0)
        {
            // Parameter names are generated (never input), one per deleted job.
            var ids = deleted.Select((d, i) => ($"j{i}", (object?)d.Id)).ToArray();
            await using var webhooks = Command(connection,
                $"DELETE FROM webhook_deliveries WHERE job_id IN ({string.Join(", ", ids.Select(p => "@" + p.Item1))})", ids);
            webhooks.Transaction = transaction;
            await webhooks.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return deleted.Select(d => d.Input).ToList();
    }

    private long Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Queued jobs (and since when the oldest waits) and the webhook outbox's pending and failed deliveries, in one
    /// connection: the operations gauges read this every few seconds at most.
    /// </summary>
    public async Task<JobBacklog> BacklogAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        long queued;
        DateTimeOffset? oldest;
        await using (var jobs = Command(connection, "SELECT count(*), min(updated_at) FROM jobs WHERE status = 'queued'"))
        await using (var reader = await jobs.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            queued = Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture);
            oldest = reader.IsDBNull(1) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture));
        }
        await using var webhooks = Command(connection,
            "SELECT coalesce(sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM webhook_deliveries WHERE status IN ('pending', 'failed')");
        await using var counts = await webhooks.ExecuteReaderAsync(cancellationToken);
        await counts.ReadAsync(cancellationToken);
        return new JobBacklog(queued, oldest,
            Convert.ToInt64(counts.GetValue(0), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(counts.GetValue(1), System.Globalization.CultureInfo.InvariantCulture));
    }

    public static string Name(JobStatus status) => status.ToString().ToLowerInvariant();

    public static string Name(WebhookStatus status) => status.ToString().ToLowerInvariant();

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

    /// <summary>A command with named parameters; a null value is sent as a typed NULL, which PostgreSQL can always place.</summary>
    internal static DbCommand Command(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
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

    private static async Task<List<WebhookDelivery>> ReadWebhooksAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var deliveries = new List<WebhookDelivery>();
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
            deliveries.Add(new WebhookDelivery
            {
                Id = r.GetString(0),
                JobId = r.GetString(1),
                Url = r.GetString(2),
                Event = r.GetString(3),
                Attempts = Convert.ToInt32(r.GetValue(4)),
                NextAttemptAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                Status = Enum.Parse<WebhookStatus>(r.GetString(6), ignoreCase: true),
                LastError = r.IsDBNull(7) ? null : r.GetString(7),
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8)),
                DeliveredAt = r.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)),
            });
        return deliveries;
    }
}
