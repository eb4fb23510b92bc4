using System.Diagnostics;
using StackExchange.Redis;

namespace Iris.Core.Jobs.Redis;

/// <summary>
/// A queue on a Redis stream read by a consumer group. A delivery stays in the group's pending-entries list until
/// acknowledged; a worker that dies leaves it there, and any consumer reclaims it with XAUTOCLAIM once it has been
/// idle longer than the lease. Heartbeats re-claim the entry (XCLAIM … JUSTID) to reset its idle time. Delayed
/// deliveries (retry backoff) wait in a sorted set and are moved onto the stream atomically when due.
/// </summary>
public sealed class RedisStreamsJobQueue(string connectionString, string stream, string group, TimeSpan lease, TimeSpan pollInterval, TimeProvider? clock = null) : IJobQueue, IJobQueueProbe
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private const string Field = "job";

    // Moves due entries of the delay set onto the stream in one step, so none is lost or moved twice.
    private const string PromoteScript = """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
        for _, member in ipairs(due) do
            redis.call('ZREM', KEYS[1], member)
            local id = string.match(member, '^([^:]+)')
            redis.call('XADD', KEYS[2], '*', 'job', id)
        end
        return #due
        """;

    private readonly string _consumer = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    private readonly RedisKey _stream = stream;
    private readonly RedisKey _delayed = stream + ":delayed";
    private ConnectionMultiplexer? _redis;

    private IDatabase Db => (_redis ?? throw new InvalidOperationException("InitializeAsync was not called.")).GetDatabase();

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        _redis = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            // From the start of the stream ("0"), so entries added before the group existed are not skipped.
            await Db.StreamCreateConsumerGroupAsync(_stream, group, "0", createStream: true);
        }
        catch (RedisServerException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another node created it first.
        }
    }

    public async Task EnqueueAsync(string jobId, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
            await Db.StreamAddAsync(_stream, Field, jobId);
        else
            await Db.SortedSetAddAsync(_delayed, $"{jobId}:{Guid.NewGuid():N}", _clock.GetUtcNow().Add(delay).ToUnixTimeMilliseconds());
    }

    public async Task<JobDelivery?> ReceiveAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Db.ScriptEvaluateAsync(PromoteScript, [_delayed, _stream], [_clock.GetUtcNow().ToUnixTimeMilliseconds()]);

            // Deliveries of dead consumers first: they have waited longest.
            var reclaimed = await Db.StreamAutoClaimAsync(_stream, group, _consumer, (long)lease.TotalMilliseconds, "0-0", 1);
            // Entries deleted while pending come back empty; there is nothing left of them to deliver.
            foreach (var stale in reclaimed.ClaimedEntries)
                if (!stale.IsNull && !stale.Id.IsNullOrEmpty && !stale[Field].IsNullOrEmpty)
                    return Delivery(stale, 2);

            var fresh = await Db.StreamReadGroupAsync(_stream, group, _consumer, ">", 1);
            if (fresh.Length > 0) return Delivery(fresh[0], 1);

            var left = wait - Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return null;
            // StackExchange.Redis multiplexes one connection, so it never issues a blocking XREADGROUP: poll instead.
            await Task.Delay(left < pollInterval ? left : pollInterval, cancellationToken);
        }
    }

    private static JobDelivery Delivery(StreamEntry entry, int deliveryCount) =>
        new(entry[Field].ToString(), entry.Id.ToString(), deliveryCount);

    public async Task AckAsync(JobDelivery delivery, CancellationToken cancellationToken)
    {
        await Db.StreamAcknowledgeAsync(_stream, group, delivery.Token);
        await Db.StreamDeleteAsync(_stream, [delivery.Token]);
    }

    public Task RenewAsync(JobDelivery delivery, CancellationToken cancellationToken) =>
        Db.StreamClaimIdsOnlyAsync(_stream, group, _consumer, 0, [delivery.Token]);

    public async Task ReleaseAsync(JobDelivery delivery, TimeSpan delay, CancellationToken cancellationToken)
    {
        // Add the new delivery before dropping the old one: a crash in between leaves a duplicate, never a loss.
        await EnqueueAsync(delivery.JobId, delay, cancellationToken);
        await AckAsync(delivery, cancellationToken);
    }

    /// <summary>
    /// Entries not yet delivered to the group: acknowledged entries are deleted, so the stream holds exactly the
    /// pending (delivered, unacknowledged) and the undelivered ones. The oldest undelivered entry is the first after
    /// the group's last-delivered id, and a stream id starts with the millisecond it was added at. Retries still
    /// waiting out their backoff (the delay set) are not counted.
    /// </summary>
    public async Task<JobQueueLevel> MeasureAsync(CancellationToken cancellationToken)
    {
        var length = await Db.StreamLengthAsync(_stream);
        var info = (await Db.StreamGroupInfoAsync(_stream)).FirstOrDefault(g => g.Name == group);
        var depth = Math.Max(0, length - info.PendingMessageCount);
        DateTimeOffset? oldest = null;
        if (depth > 0)
        {
            var after = info.LastDeliveredId is { Length: > 0 } last && last != "0-0" ? "(" + last : "-";
            var first = await Db.StreamRangeAsync(_stream, after, "+", 1);
            if (first.Length > 0 && long.TryParse(first[0].Id.ToString().Split('-')[0], System.Globalization.CultureInfo.InvariantCulture, out var ms))
                oldest = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
        return new JobQueueLevel(stream, "redis", depth, oldest);
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
    }
}
