using Iris.Core.Jobs;
using Iris.Core.Jobs.RabbitMq;
using Iris.Core.Jobs.Redis;
using Iris.Core.Jobs.Sqlite;
using Iris.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Operations;

/// <summary>
/// What iris_job_queue_depth and iris_job_oldest_age_seconds report, per backend, against the real brokers: jobs
/// waiting count, jobs delivered to a worker (in flight) or still backing off do not.
/// </summary>
public sealed class JobQueueProbeTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_embedded_queue_counts_visible_rows_and_dates_the_oldest_from_when_it_became_visible()
    {
        using var scratch = new TempDirectory();
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-03T10:00:00Z"));
        var queue = new SqliteJobQueue(new SqliteJobDatabase(scratch.File("jobs.db")), Lease, TimeSpan.FromMilliseconds(10), clock);
        await queue.InitializeAsync(default);
        Assert.Equal(new JobQueueLevel("default", "embedded", 0, null), await queue.MeasureAsync(default));

        await queue.EnqueueAsync("first", TimeSpan.Zero, default);
        clock.Advance(TimeSpan.FromSeconds(30));
        await queue.EnqueueAsync("second", TimeSpan.Zero, default);
        await queue.EnqueueAsync("third", TimeSpan.Zero, default);
        await queue.EnqueueAsync("backing-off", TimeSpan.FromMinutes(1), default);
        var delivered = await queue.ReceiveAsync(TimeSpan.Zero, default);
        Assert.Equal("first", delivered!.JobId);

        var level = await queue.MeasureAsync(default);
        Assert.Equal(2, level.Depth);
        Assert.Equal(DateTimeOffset.Parse("2026-12-03T10:00:30Z"), level.OldestWaitingSince);
    }

    [Fact]
    public async Task The_redis_stream_counts_undelivered_entries_and_dates_the_oldest_by_its_stream_id()
    {
        var queue = new RedisStreamsJobQueue(TestServices.Redis, "probe-" + Guid.NewGuid().ToString("N")[..8], "workers", Lease, TimeSpan.FromMilliseconds(50));
        await using (queue)
        {
            await queue.InitializeAsync(default);
            Assert.Equal(0, (await queue.MeasureAsync(default)).Depth);
            var before = DateTimeOffset.UtcNow.AddSeconds(-1);
            foreach (var id in new[] { "a", "b", "c" }) await queue.EnqueueAsync(id, TimeSpan.Zero, default);
            await queue.EnqueueAsync("backing-off", TimeSpan.FromMinutes(1), default);
            var delivered = await queue.ReceiveAsync(TimeSpan.FromSeconds(1), default);
            Assert.Equal("a", delivered!.JobId);

            var level = await queue.MeasureAsync(default);
            Assert.Equal("redis", level.Backend);
            Assert.Equal(2, level.Depth);
            Assert.InRange(level.OldestWaitingSince!.Value, before, DateTimeOffset.UtcNow.AddSeconds(1));

            await queue.AckAsync(delivered, default);
            foreach (var _ in new[] { "b", "c" })
                await queue.AckAsync((await queue.ReceiveAsync(TimeSpan.FromSeconds(1), default))!, default);
            Assert.Equal(new JobQueueLevel(level.Queue, "redis", 0, null), await queue.MeasureAsync(default));
        }
    }

    [Fact]
    public async Task The_rabbitmq_queue_counts_ready_messages_and_leaves_the_age_to_the_job_store()
    {
        var name = "probe-" + Guid.NewGuid().ToString("N")[..8];
        await using var queue = new RabbitMqJobQueue(TestServices.RabbitMq, name, 1);
        await queue.InitializeAsync(default);
        foreach (var _ in Enumerable.Range(0, 3)) await queue.EnqueueAsync(Guid.NewGuid().ToString("N"), TimeSpan.Zero, default);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        JobQueueLevel level;
        // The broker's count is updated asynchronously after the publish confirms.
        while ((level = await queue.MeasureAsync(default)).Depth < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(new JobQueueLevel(name, "rabbitmq", 3, null), level);
    }
}
