using System.Text.Json;
using Iris.Core.Jobs;
using Iris.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Jobs;

/// <summary>A job store and queue to run the lifecycle suite against, created fresh for each test.</summary>
public interface IJobBackend : IAsyncDisposable
{
    IJobStore Store { get; }
    IJobQueue Queue { get; }

    /// <summary>A second, independent client of the same queue (its own connection), as another worker process has.</summary>
    Task<IJobQueue> OpenAnotherQueueAsync();

    /// <summary>A second client of the same store that reads the time from <paramref name="clock"/>.</summary>
    IJobStore OpenStore(TimeProvider clock);
}

/// <summary>
/// The behaviour every store × queue combination must have, run through the real worker. Each backend gets a
/// subclass that only says how to create it.
/// </summary>
public abstract class JobLifecycleContract : IAsyncLifetime
{
    protected static readonly JobSettings Settings = new()
    {
        MaxAttempts = 3,
        RetryBaseDelay = TimeSpan.FromMilliseconds(100),
        Lease = TimeSpan.FromSeconds(2),
        MaxQueued = 20,
        ShutdownGrace = TimeSpan.FromSeconds(5),
    };

    private readonly TempDirectory _blobDirectory = new();
    private IJobBackend _backend = null!;
    protected readonly EchoJobProcessor Processor = new();
    protected IJobStore Store => _backend.Store;
    protected IJobQueue Queue => _backend.Queue;
    protected JobService Service { get; private set; } = null!;
    protected IJobBlobStore Blobs { get; private set; } = null!;

    protected abstract Task<IJobBackend> CreateBackendAsync(TempDirectory scratch);

    public async Task InitializeAsync()
    {
        _backend = await CreateBackendAsync(_blobDirectory);
        await Store.InitializeAsync(CancellationToken.None);
        await Queue.InitializeAsync(CancellationToken.None);
        Blobs = new LocalDiskJobBlobStore(_blobDirectory.File("inputs"));
        Service = new JobService(Store, Queue, Blobs, Processor, Settings);
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        _blobDirectory.Dispose();
    }

    protected JobWorker NewWorker(JobSettings? settings = null) => new(Store, Queue, Blobs, Processor, settings ?? Settings);

    protected async Task<Job> SubmitAsync(Dictionary<string, string>? parameters = null, string? idempotencyKey = null, int images = 1)
    {
        var result = await Service.SubmitAsync(new JobSubmission(
            Enumerable.Range(0, images).Select(i => new JobInputImage(new byte[10 + i], $"in{i}.png")).ToList(),
            ["echo"], parameters ?? new Dictionary<string, string>(), idempotencyKey), CancellationToken.None);
        return result.Jobs[0];
    }

    /// <summary>The real input store, whose put number <paramref name="failAt"/> fails as a full disk would.</summary>
    private sealed class FailingPuts(IJobBlobStore inner, int failAt) : IJobBlobStore
    {
        private int _puts;

        public Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _puts) == failAt
                ? throw new IOException("No space left on device")
                : inner.PutAsync(data, cancellationToken);

        public Task<byte[]?> GetAsync(string reference, CancellationToken cancellationToken) => inner.GetAsync(reference, cancellationToken);
        public Task DeleteAsync(string reference, CancellationToken cancellationToken) => inner.DeleteAsync(reference, cancellationToken);
    }

    [Fact]
    public async Task A_batch_whose_third_input_fails_to_store_leaves_neither_jobs_nor_the_first_two_inputs()
    {
        var service = new JobService(Store, Queue, new FailingPuts(Blobs, failAt: 3), Processor, Settings);
        var images = Enumerable.Range(0, 4).Select(i => new JobInputImage(new byte[10 + i], $"in{i}.png")).ToList();
        await Assert.ThrowsAsync<IOException>(() => service.SubmitAsync(new JobSubmission(images, ["echo"], new Dictionary<string, string>()), CancellationToken.None));
        Assert.Empty(Directory.GetFiles(_blobDirectory.File("inputs")));
        Assert.Empty((await Store.ListAsync(new JobQuery(Limit: 100), CancellationToken.None)).Jobs);
    }

    /// <summary>Runs a worker in the background until the jobs reach a finished state (or the time runs out).</summary>
    protected async Task<IReadOnlyList<Job>> RunUntilFinishedAsync(IEnumerable<string> ids, JobWorker? worker = null, int concurrency = 2, TimeSpan? timeout = null)
    {
        using var stop = new CancellationTokenSource();
        var running = (worker ?? NewWorker()).RunAsync(concurrency, stop.Token);
        try
        {
            return await WaitForAsync(ids, j => j.IsFinished, timeout ?? TimeSpan.FromSeconds(60));
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    protected async Task<IReadOnlyList<Job>> WaitForAsync(IEnumerable<string> ids, Func<Job, bool> condition, TimeSpan timeout)
    {
        var list = ids.ToList();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var jobs = new List<Job>();
            foreach (var id in list) jobs.Add((await Store.GetAsync(id, CancellationToken.None))!);
            if (jobs.All(condition)) return jobs;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("Jobs did not get there in time: " + string.Join(", ", jobs.Select(j => $"{j.Id}={j.Status}/{j.Attempts}/{j.Error}")));
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Submitted_job_is_processed_and_its_result_stored()
    {
        var job = await SubmitAsync(new() { ["key"] = "a" });
        Assert.Equal(JobStatus.Queued, job.Status);
        var done = (await RunUntilFinishedAsync([job.Id]))[0];
        Assert.Equal(JobStatus.Done, done.Status);
        Assert.Equal(1, done.Attempts);
        Assert.Equal(10, JsonDocument.Parse(done.Result!).RootElement.GetProperty("echo").GetProperty("bytes").GetInt32());
        Assert.Equal([new ModelVersion("echo", "1")], done.GeneratedBy);
        Assert.NotNull(done.StartedAt);
        Assert.NotNull(done.CompletedAt);
        Assert.Null(done.Worker);
        // A done job never runs again, so its stored input is gone.
        Assert.Null(await Blobs.GetAsync(done.InputRef, CancellationToken.None));
    }

    [Fact]
    public async Task Transient_failures_are_retried_with_backoff_until_success()
    {
        var job = await SubmitAsync(new() { ["key"] = "flaky", ["fail_times"] = "2" });
        var done = (await RunUntilFinishedAsync([job.Id]))[0];
        Assert.Equal(JobStatus.Done, done.Status);
        Assert.Equal(3, done.Attempts);
        Assert.Equal(3, Processor.Runs("flaky"));
        // Backoff 100 ms then 200 ms: the job cannot finish sooner than the sum after it started.
        Assert.True(done.CompletedAt - done.StartedAt >= TimeSpan.FromMilliseconds(300), $"{done.CompletedAt - done.StartedAt}");
    }

    [Fact]
    public async Task Job_failing_every_attempt_is_failed_with_its_last_error_and_can_be_retried()
    {
        var job = await SubmitAsync(new() { ["key"] = "doomed", ["fail_times"] = "3" });
        var failed = (await RunUntilFinishedAsync([job.Id]))[0];
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal(3, failed.Attempts);
        Assert.Equal("transient failure 3", failed.Error);
        Assert.Null(failed.Result);

        var retried = await Service.RetryAsync(job.Id, null, CancellationToken.None);
        Assert.Equal(JobStatus.Queued, retried.Status);
        Assert.Equal(0, retried.Attempts);
        var done = (await RunUntilFinishedAsync([job.Id]))[0];
        Assert.Equal(JobStatus.Done, done.Status);
        Assert.Equal(4, Processor.Runs("doomed"));
    }

    [Fact]
    public async Task Input_that_can_never_succeed_fails_at_once_without_retries()
    {
        var job = await SubmitAsync(new() { ["key"] = "bad", ["permanent"] = "true" });
        var failed = (await RunUntilFinishedAsync([job.Id]))[0];
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal(1, failed.Attempts);
        Assert.Equal(1, Processor.Runs("bad"));
        Assert.Contains("never work", failed.Error);
    }

    [Fact]
    public async Task Canceled_job_is_never_run_and_only_queued_jobs_can_be_canceled()
    {
        var canceled = await SubmitAsync(new() { ["key"] = "canceled" });
        var kept = await SubmitAsync(new() { ["key"] = "kept" });
        Assert.Equal(JobStatus.Canceled, (await Service.CancelAsync(canceled.Id, null, CancellationToken.None)).Status);
        Assert.Equal(JobStatus.Canceled, (await Service.CancelAsync(canceled.Id, null, CancellationToken.None)).Status);

        var jobs = await RunUntilFinishedAsync([kept.Id]);
        Assert.Equal(JobStatus.Done, jobs[0].Status);
        // The canceled job's delivery was consumed by now or sits behind the kept one; give the worker one more pass.
        await RunUntilFinishedAsync([canceled.Id], timeout: TimeSpan.FromSeconds(2));
        Assert.Equal(0, Processor.Runs("canceled"));
        Assert.Equal(JobStatus.Canceled, (await Store.GetAsync(canceled.Id, CancellationToken.None))!.Status);
        await Assert.ThrowsAsync<JobStateConflictException>(() => Service.CancelAsync(kept.Id, null, CancellationToken.None));
    }

    [Fact]
    public async Task Repeated_idempotency_key_returns_the_original_jobs()
    {
        var first = await SubmitAsync(new() { ["key"] = "once" }, idempotencyKey: "order-42");
        var again = await SubmitAsync(new() { ["key"] = "once" }, idempotencyKey: "order-42");
        Assert.Equal(first.Id, again.Id);
        var batch = await Service.SubmitAsync(new JobSubmission([new(new byte[1], null), new(new byte[2], null)], ["echo"],
            new Dictionary<string, string>(), "batch-7"), CancellationToken.None);
        var batchAgain = await Service.SubmitAsync(new JobSubmission([new(new byte[1], null), new(new byte[2], null)], ["echo"],
            new Dictionary<string, string>(), "batch-7"), CancellationToken.None);
        Assert.True(batchAgain.Replayed);
        Assert.Equal(batch.Jobs.Select(j => j.Id), batchAgain.Jobs.Select(j => j.Id));
        Assert.Equal(3, await Store.CountAsync(JobStatus.Queued, CancellationToken.None));
    }

    [Fact]
    public async Task Submissions_beyond_the_queue_limit_are_refused()
    {
        for (var i = 0; i < Settings.MaxQueued; i++) await SubmitAsync();
        var full = await Assert.ThrowsAsync<JobQueueFullException>(() => SubmitAsync());
        Assert.Equal(Settings.RetryAfter, full.RetryAfter);
    }

    [Fact]
    public async Task Job_of_a_worker_that_died_is_redelivered_and_completes_once()
    {
        var job = await SubmitAsync(new() { ["key"] = "orphan" });
        // Another worker takes the job and dies: no heartbeat, no ack, its connection gone.
        var doomed = await _backend.OpenAnotherQueueAsync();
        var delivery = await doomed.ReceiveAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(job.Id, delivery!.JobId);
        Assert.NotNull(await Store.TryStartAsync(job.Id, "dead-worker", Settings.Lease, Settings.MaxAttempts, CancellationToken.None));
        await doomed.DisposeAsync();

        var done = (await RunUntilFinishedAsync([job.Id], timeout: TimeSpan.FromSeconds(30)))[0];
        Assert.Equal(JobStatus.Done, done.Status);
        Assert.Equal(2, done.Attempts);
        Assert.Equal(1, Processor.Runs("orphan"));
        // The dead worker cannot write a result over it.
        Assert.False(await Store.CompleteAsync(job.Id, "dead-worker", "{}", [], CancellationToken.None));
    }

    [Fact]
    public async Task Job_whose_workers_keep_dying_is_dead_lettered_after_MaxAttempts_without_running_again()
    {
        // The first attempt fails for real; every later one is taken by a worker that dies in it (no heartbeat, no ack,
        // no outcome), as a job that crashes its process does.
        var job = await SubmitAsync(new() { ["key"] = "poison", ["fail_times"] = "1" });
        var firstQueue = await _backend.OpenAnotherQueueAsync();
        var first = await firstQueue.ReceiveAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        await new JobWorker(Store, firstQueue, Blobs, Processor, Settings).HandleAsync(first!, CancellationToken.None);
        await firstQueue.DisposeAsync();
        Assert.Equal("transient failure 1", (await Store.GetAsync(job.Id, CancellationToken.None))!.Error);

        for (var attempt = 2; attempt <= Settings.MaxAttempts; attempt++)
        {
            var doomed = await _backend.OpenAnotherQueueAsync();
            var delivery = await doomed.ReceiveAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            Assert.Equal(job.Id, delivery!.JobId);
            // The previous holder's heartbeat goes stale a lease after it died; then this one takes over and dies too.
            Job? claimed = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (claimed is null && DateTime.UtcNow < deadline)
                if ((claimed = await Store.TryStartAsync(job.Id, $"dead-worker-{attempt}", Settings.Lease, Settings.MaxAttempts, CancellationToken.None)) is null)
                    await Task.Delay(100);
            Assert.Equal(JobStatus.Processing, claimed?.Status);
            Assert.Equal(attempt, claimed!.Attempts);
            await doomed.DisposeAsync();
        }

        var failed = (await RunUntilFinishedAsync([job.Id], timeout: TimeSpan.FromSeconds(30)))[0];
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal(Settings.MaxAttempts, failed.Attempts);
        Assert.StartsWith(IJobStore.WorkerDiedError, failed.Error);
        Assert.EndsWith("last error: transient failure 1", failed.Error);
        // Run once (the real failure); the dead workers never reached the processor, and the live one did not run it.
        Assert.Equal(1, Processor.Runs("poison"));
        Assert.Null(await Store.TryStartAsync(job.Id, "late-worker", TimeSpan.Zero, Settings.MaxAttempts, CancellationToken.None));
    }

    [Fact]
    public async Task Job_the_queue_never_received_is_recovered_from_the_store()
    {
        // Recorded, then the process died before enqueuing it (or the broker lost the message).
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = _backend.OpenStore(clock);
        var now = clock.GetUtcNow();
        var orphan = new Job
        {
            Id = Job.NewId(clock), Tasks = ["echo"], Parameters = new Dictionary<string, string> { ["key"] = "lost" },
            InputRef = await Blobs.PutAsync(new byte[7], CancellationToken.None), CreatedAt = now, UpdatedAt = now,
        };
        await store.CreateAsync([orphan], CancellationToken.None);
        var recovery = new JobRecovery(store, Queue, TimeSpan.FromMilliseconds(300), clock: clock);
        clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(0, await recovery.SweepAsync(CancellationToken.None)); // not older than 300 ms yet
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await recovery.SweepAsync(CancellationToken.None));
        clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(0, await recovery.SweepAsync(CancellationToken.None)); // touched: not swept again within 300 ms

        var done = (await RunUntilFinishedAsync([orphan.Id]))[0];
        Assert.Equal(JobStatus.Done, done.Status);
        Assert.Equal(1, Processor.Runs("lost"));
    }

    [Fact]
    public async Task Duplicate_deliveries_produce_one_result()
    {
        var job = await SubmitAsync(new() { ["key"] = "dup", ["sleep_ms"] = "300" });
        await Queue.EnqueueAsync(job.Id, TimeSpan.Zero, CancellationToken.None);
        await Queue.EnqueueAsync(job.Id, TimeSpan.Zero, CancellationToken.None);
        // All three deliveries are handled at once and to the end, so nothing is left to run later.
        var deliveries = new List<JobDelivery>();
        for (var i = 0; i < 3; i++) deliveries.Add((await Queue.ReceiveAsync(TimeSpan.FromSeconds(10), CancellationToken.None))!);
        Assert.All(deliveries, d => Assert.Equal(job.Id, d.JobId));
        var worker = NewWorker();
        await Task.WhenAll(deliveries.Select(d => worker.HandleAsync(d, CancellationToken.None)));
        var done = (await Store.GetAsync(job.Id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Done, done.Status);
        Assert.Equal(1, Processor.Runs("dup"));
        Assert.Equal(1, done.Attempts);
        // A duplicate delivered after the job finished is acknowledged without running it.
        var late = await Queue.ReceiveAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        if (late is not null) await worker.HandleAsync(late, CancellationToken.None);
        Assert.Equal(1, Processor.Runs("dup"));
    }

    [Fact]
    public async Task Job_running_longer_than_its_lease_keeps_it_through_heartbeats_and_runs_once()
    {
        // Lease 2 s, heartbeats every 0.67 s: a second worker polling all along must never take the job over.
        var job = await SubmitAsync(new() { ["key"] = "slow", ["sleep_ms"] = "5000" });
        using var stop = new CancellationTokenSource();
        var second = NewWorker().RunAsync(1, stop.Token);
        var done = (await RunUntilFinishedAsync([job.Id]))[0];
        await stop.CancelAsync();
        await second;
        Assert.Equal(JobStatus.Done, done.Status);
        Assert.Equal(1, done.Attempts);
        Assert.Equal(1, Processor.Runs("slow"));
    }

    [Fact]
    public async Task Per_task_concurrency_limit_holds_however_many_workers_run()
    {
        var ids = new List<string>();
        for (var i = 0; i < 4; i++) ids.Add((await SubmitAsync(new() { ["key"] = $"limited{i}", ["sleep_ms"] = "200" })).Id);
        var limited = NewWorker(Settings with { TaskConcurrency = new Dictionary<string, int> { ["echo"] = 1 } });
        var jobs = await RunUntilFinishedAsync(ids, limited, concurrency: 4);
        Assert.All(jobs, j => Assert.Equal(JobStatus.Done, j.Status));
        Assert.Equal(1, Processor.MaxConcurrentRuns);
    }

    [Fact]
    public async Task Shutdown_hands_an_unfinished_job_back_without_counting_the_attempt()
    {
        var job = await SubmitAsync(new() { ["key"] = "long", ["sleep_ms"] = "5000" });
        using var stop = new CancellationTokenSource();
        var worker = NewWorker(Settings with { ShutdownGrace = TimeSpan.FromMilliseconds(200) });
        var running = worker.RunAsync(1, stop.Token);
        await WaitForAsync([job.Id], j => j.Status == JobStatus.Processing, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await running;
        var returned = (await Store.GetAsync(job.Id, CancellationToken.None))!;
        Assert.Equal(JobStatus.Queued, returned.Status);
        Assert.Equal(0, returned.Attempts);
        // It is deliverable again at once, not after a lease.
        var delivery = await Queue.ReceiveAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(job.Id, delivery?.JobId);
    }

    [Fact]
    public async Task Listing_pages_newest_first_and_filters_by_status()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add((await SubmitAsync()).Id);
        await Service.CancelAsync(ids[1], null, CancellationToken.None);
        var first = await Store.ListAsync(new JobQuery(Limit: 3), CancellationToken.None);
        Assert.Equal(ids.AsEnumerable().Reverse().Take(3), first.Jobs.Select(j => j.Id));
        var second = await Store.ListAsync(new JobQuery(Limit: 3, Cursor: first.NextCursor), CancellationToken.None);
        Assert.Equal(ids.Take(2).Reverse(), second.Jobs.Select(j => j.Id));
        Assert.Null(second.NextCursor);
        var canceled = await Store.ListAsync(new JobQuery(JobStatus.Canceled), CancellationToken.None);
        Assert.Equal([ids[1]], canceled.Jobs.Select(j => j.Id));
    }
}

public sealed class SqliteEmbeddedJobLifecycleTests : JobLifecycleContract
{
    protected override Task<IJobBackend> CreateBackendAsync(TempDirectory scratch)
    {
        var database = new Iris.Core.Jobs.Sqlite.SqliteJobDatabase(scratch.File("jobs.db"));
        return Task.FromResult<IJobBackend>(new Backend(
            new Iris.Core.Jobs.Sqlite.SqliteJobStore(database),
            new Iris.Core.Jobs.Sqlite.SqliteJobQueue(database, Settings.Lease, TimeSpan.FromMilliseconds(50)),
            () => new Iris.Core.Jobs.Sqlite.SqliteJobQueue(new Iris.Core.Jobs.Sqlite.SqliteJobDatabase(database.Path), Settings.Lease, TimeSpan.FromMilliseconds(50)),
            database.Path));
    }

    private sealed record Backend(IJobStore Store, IJobQueue Queue, Func<IJobQueue> Another, string Path) : IJobBackend
    {
        public Task<IJobQueue> OpenAnotherQueueAsync() => Task.FromResult(Another());

        public IJobStore OpenStore(TimeProvider clock) => new Iris.Core.Jobs.Sqlite.SqliteJobStore(new Iris.Core.Jobs.Sqlite.SqliteJobDatabase(Path), clock);

        public ValueTask DisposeAsync()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            return ValueTask.CompletedTask;
        }
    }
}
