using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Iris.Core.Jobs.Sqlite;

/// <summary>
/// The embedded queue: a table in the job database. Receiving leases a row (its <c>visible_at</c> moves to the
/// lease's end and a fresh token marks the holder); acknowledging deletes it. A worker that dies never acknowledges,
/// so the row becomes visible again when the lease runs out and another worker receives it. Workers in other
/// processes poll; workers in this process are woken at once by <see cref="EnqueueAsync"/>.
/// </summary>
public sealed class SqliteJobQueue(SqliteJobDatabase database, TimeSpan lease, TimeSpan pollInterval, TimeProvider? clock = null) : IJobQueue, IJobQueueProbe
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    public Task InitializeAsync(CancellationToken cancellationToken) => database.EnsureMigratedAsync(cancellationToken);

    public async Task EnqueueAsync(string jobId, TimeSpan delay, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO job_queue (job_id, visible_at) VALUES (@job, @visible)";
        command.Parameters.AddWithValue("@job", jobId);
        command.Parameters.AddWithValue("@visible", Now() + (long)delay.TotalMilliseconds);
        await command.ExecuteNonQueryAsync(cancellationToken);
        if (delay == TimeSpan.Zero) _signal.Release();
    }

    public async Task<JobDelivery?> ReceiveAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        // How long this call waits is measured on the monotonic clock the waits below run on, not on the job clock.
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var delivery = await TryReceiveAsync(cancellationToken);
            if (delivery is not null) return delivery;
            var left = wait - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return null;
            await _signal.WaitAsync(left < pollInterval ? left : pollInterval, cancellationToken);
        }
    }

    private async Task<JobDelivery?> TryReceiveAsync(CancellationToken cancellationToken)
    {
        var now = Now();
        var token = Guid.NewGuid().ToString("N");
        await using var connection = await database.OpenAsync(cancellationToken);
        // Idle workers poll: a read first keeps them from taking the write lock (which the UPDATE would) for nothing.
        await using (var peek = connection.CreateCommand())
        {
            peek.CommandText = "SELECT 1 FROM job_queue WHERE visible_at <= @now LIMIT 1";
            peek.Parameters.AddWithValue("@now", now);
            if (await peek.ExecuteScalarAsync(cancellationToken) is null) return null;
        }
        await using var command = connection.CreateCommand();
        // One statement, so picking the row and leasing it are atomic across processes.
        command.CommandText = """
            UPDATE job_queue SET visible_at = @until, token = @token, deliveries = deliveries + 1
            WHERE seq = (SELECT seq FROM job_queue WHERE visible_at <= @now ORDER BY visible_at, seq LIMIT 1)
            RETURNING seq, job_id, deliveries
            """;
        command.Parameters.AddWithValue("@now", now);
        command.Parameters.AddWithValue("@until", now + (long)lease.TotalMilliseconds);
        command.Parameters.AddWithValue("@token", token);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new JobDelivery(reader.GetString(1), $"{reader.GetInt64(0)}:{token}", reader.GetInt32(2));
    }

    public Task AckAsync(JobDelivery delivery, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM job_queue WHERE seq = @seq AND token = @token", delivery, null, cancellationToken);

    public Task RenewAsync(JobDelivery delivery, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE job_queue SET visible_at = @visible WHERE seq = @seq AND token = @token", delivery, lease, cancellationToken);

    public async Task ReleaseAsync(JobDelivery delivery, TimeSpan delay, CancellationToken cancellationToken)
    {
        await ExecuteAsync("UPDATE job_queue SET visible_at = @visible, token = NULL WHERE seq = @seq AND token = @token", delivery, delay, cancellationToken);
        if (delay == TimeSpan.Zero) _signal.Release();
    }

    /// <summary>Entries waiting or leased; for tests and diagnostics.</summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM job_queue";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Rows deliverable now (expired leases included) and the earliest time one of them became visible.</summary>
    public async Task<JobQueueLevel> MeasureAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*), min(visible_at) FROM job_queue WHERE visible_at <= @now";
        command.Parameters.AddWithValue("@now", Now());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new JobQueueLevel("default", "embedded", reader.GetInt64(0), reader.IsDBNull(1) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
    }

    private async Task ExecuteAsync(string sql, JobDelivery delivery, TimeSpan? visibleIn, CancellationToken cancellationToken)
    {
        var colon = delivery.Token.IndexOf(':');
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@seq", long.Parse(delivery.Token[..colon]));
        command.Parameters.AddWithValue("@token", delivery.Token[(colon + 1)..]);
        if (visibleIn is { } v) command.Parameters.AddWithValue("@visible", Now() + (long)v.TotalMilliseconds);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private long Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
