using Iris.Configuration;
using Iris.Core.Jobs;
using Iris.Core.Jobs.Sqlite;
using Iris.Hosting;
using Iris.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Iris.Tests.Operations;

/// <summary>
/// The gauges behind iris_job_queue_depth, the webhook outbox and the data directories: one reading serves every
/// scrape within Metrics:GaugeCacheSeconds, and the job store stands in where the broker cannot tell.
/// </summary>
public sealed class OperationsGaugesTests
{
    /// <summary>The real embedded queue, counting how often the gauges measure it.</summary>
    private sealed class CountingQueue(SqliteJobQueue queue, bool answers) : IJobQueue, IJobQueueProbe
    {
        public int Measured;
        public Task InitializeAsync(CancellationToken cancellationToken) => queue.InitializeAsync(cancellationToken);
        public Task EnqueueAsync(string jobId, TimeSpan delay, CancellationToken cancellationToken) => queue.EnqueueAsync(jobId, delay, cancellationToken);
        public Task<JobDelivery?> ReceiveAsync(TimeSpan wait, CancellationToken cancellationToken) => queue.ReceiveAsync(wait, cancellationToken);
        public Task AckAsync(JobDelivery delivery, CancellationToken cancellationToken) => queue.AckAsync(delivery, cancellationToken);
        public Task RenewAsync(JobDelivery delivery, CancellationToken cancellationToken) => queue.RenewAsync(delivery, cancellationToken);
        public Task ReleaseAsync(JobDelivery delivery, TimeSpan delay, CancellationToken cancellationToken) => queue.ReleaseAsync(delivery, delay, cancellationToken);
        public ValueTask DisposeAsync() => queue.DisposeAsync();

        public async Task<JobQueueLevel> MeasureAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Measured);
            var level = await queue.MeasureAsync(cancellationToken);
            return answers ? level : level with { OldestWaitingSince = null };
        }
    }

    private static async Task<(OperationsGauges Gauges, CountingQueue Queue, SqliteJobStore Store)> StartAsync(TempDirectory scratch, int cacheSeconds, bool brokerKnowsAge = true)
    {
        var database = new SqliteJobDatabase(scratch.File("jobs.db"));
        var store = new SqliteJobStore(database);
        await store.InitializeAsync(default);
        var queue = new CountingQueue(new SqliteJobQueue(database, TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(10)), brokerKnowsAge);
        await queue.InitializeAsync(default);
        var options = new IrisOptions
        {
            Metrics = new MetricsOptions { GaugeCacheSeconds = cacheSeconds },
            Models = new ModelsOptions { CacheDirectory = scratch.File("models") },
            Jobs = new JobsOptions { Database = scratch.File("jobs.db"), InputDirectory = scratch.File("inputs") },
            Storage = new StorageOptions { Directory = scratch.File("images") },
        };
        return (new OperationsGauges(queue, store, options, TimeProvider.System, NullLogger<OperationsGauges>.Instance), queue, store);
    }

    [Fact]
    public async Task Scrapes_within_the_cache_period_reuse_one_reading()
    {
        using var scratch = new TempDirectory();
        var (gauges, queue, _) = await StartAsync(scratch, cacheSeconds: 60);
        await queue.EnqueueAsync("waiting", TimeSpan.Zero, default);
        for (var i = 0; i < 10; i++)
            Assert.Equal(1, gauges.Current().Queues.Single().Depth);
        Assert.Equal(1, queue.Measured);
    }

    [Fact]
    public async Task With_no_cache_period_every_scrape_reads_again()
    {
        using var scratch = new TempDirectory();
        var (gauges, queue, _) = await StartAsync(scratch, cacheSeconds: 0);
        Assert.Equal(0, gauges.Current().Queues.Single().Depth);
        await queue.EnqueueAsync("waiting", TimeSpan.Zero, default);
        Assert.Equal(1, gauges.Current().Queues.Single().Depth);
        Assert.Equal(2, queue.Measured);
    }

    [Fact]
    public async Task A_snapshot_has_the_outbox_counts_and_the_space_of_each_local_directory()
    {
        using var scratch = new TempDirectory();
        var (gauges, _, _) = await StartAsync(scratch, cacheSeconds: 0);
        var snapshot = gauges.Current();
        Assert.Equal(new JobBacklog(0, null, 0, 0), snapshot.Backlog);
        Assert.Equal(new[] { "models", "images", "job-inputs", "job-database", "transform-cache" }, snapshot.Directories.Select(d => d.Store));
        Assert.All(snapshot.Directories, d => Assert.InRange(d.FreeBytes, 1, d.TotalBytes));
    }

    [Fact]
    public async Task When_the_broker_cannot_date_its_oldest_entry_the_oldest_queued_job_in_the_store_does()
    {
        using var scratch = new TempDirectory();
        var (gauges, queue, store) = await StartAsync(scratch, cacheSeconds: 0, brokerKnowsAge: false);
        var job = new Job { Id = Job.NewId(TimeProvider.System), Tasks = ["detect"], InputRef = "input", CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-3) };
        await store.CreateAsync([job], default);
        await queue.EnqueueAsync(job.Id, TimeSpan.Zero, default);
        var level = gauges.Current().Queues.Single();
        Assert.Equal(1, level.Depth);
        Assert.Equal(job.CreatedAt.ToUnixTimeMilliseconds(), level.OldestWaitingSince!.Value.ToUnixTimeMilliseconds());
    }
}
