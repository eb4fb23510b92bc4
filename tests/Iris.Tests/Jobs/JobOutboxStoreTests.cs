using Iris.Core.Jobs;
using Iris.Core.Jobs.Postgres;
using Iris.Core.Jobs.Sqlite;
using Iris.Jobs;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Iris.Tests.Jobs;

/// <summary>
/// The webhook outbox and retention in the job store itself, on real SQLite and PostgreSQL: what a job's final
/// transition writes, how dispatchers claim deliveries, and what the retention sweep deletes and keeps.
/// </summary>
public abstract class JobOutboxStoreContract : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly IHttpClientFactory HttpClients = new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>();
    protected readonly TempDirectory Scratch = new();
    private SqlJobStore _store = null!;
    private LocalDiskJobBlobStore _blobs = null!;

    /// <summary>Creates the empty database this test runs on.</summary>
    protected abstract Task CreateDatabaseAsync();

    /// <summary>A new store over the test's database (as a restarted process opens it), reading the time from <paramref name="clock"/>.</summary>
    protected abstract SqlJobStore OpenStore(TimeProvider? clock = null);

    /// <summary>Takes the database back to its schema from before the outbox, as an older Iris left it.</summary>
    protected abstract Task DowngradeAsync();

    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await CreateDatabaseAsync();
        _store = OpenStore();
        await _store.InitializeAsync(CancellationToken.None);
        _blobs = new LocalDiskJobBlobStore(Scratch.File("inputs"));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await DropDatabaseAsync();
        Scratch.Dispose();
    }

    private async Task<Job> CreateAsync(string? callbackUrl = "http://127.0.0.1:9/hook")
    {
        var now = DateTimeOffset.UtcNow;
        var job = new Job
        {
            Id = Job.NewId(), Tasks = ["echo"], InputRef = await _blobs.PutAsync(new byte[] { 1, 2, 3 }, CancellationToken.None),
            CreatedAt = now, UpdatedAt = now, CallbackUrl = callbackUrl,
        };
        await _store.CreateAsync([job], CancellationToken.None);
        return job;
    }

    private async Task<Job> FinishAsync(JobStatus final, string? callbackUrl = "http://127.0.0.1:9/hook")
    {
        var job = await CreateAsync(callbackUrl);
        if (final == JobStatus.Canceled)
        {
            Assert.True(await _store.CancelAsync(job.Id, CancellationToken.None));
            return job;
        }
        Assert.NotNull(await _store.TryStartAsync(job.Id, "w1", Lease, 3, CancellationToken.None));
        Assert.True(final == JobStatus.Done
            ? await _store.CompleteAsync(job.Id, "w1", "{}", [], CancellationToken.None)
            : await _store.FailAsync(job.Id, "w1", "broken", CancellationToken.None));
        return job;
    }

    private bool BlobExists(Job job) => File.Exists(Path.Combine(Scratch.File("inputs"), job.InputRef));

    [Fact]
    public async Task Finishing_a_job_with_a_callback_records_its_pending_webhook()
    {
        var done = await FinishAsync(JobStatus.Done);
        var failed = await FinishAsync(JobStatus.Failed);
        var silent = await FinishAsync(JobStatus.Done, callbackUrl: null);
        var canceled = await FinishAsync(JobStatus.Canceled);

        var delivery = await _store.GetWebhookAsync(done.Id, CancellationToken.None);
        Assert.NotNull(delivery);
        Assert.Equal(("job.done", WebhookStatus.Pending, 0, "http://127.0.0.1:9/hook"), (delivery.Event, delivery.Status, delivery.Attempts, delivery.Url));
        Assert.Equal("job.failed", (await _store.GetWebhookAsync(failed.Id, CancellationToken.None))!.Event);
        Assert.Null(await _store.GetWebhookAsync(silent.Id, CancellationToken.None));
        // Canceling sends no webhook (as before the outbox): the client canceled it and knows.
        Assert.Null(await _store.GetWebhookAsync(canceled.Id, CancellationToken.None));

        // A transition that loses (the job is no longer held) records nothing more.
        Assert.False(await _store.CompleteAsync(done.Id, "w1", "{}", [], CancellationToken.None));
        var claimed = await _store.ClaimWebhooksAsync(Lease, 100, CancellationToken.None);
        Assert.Equal([done.Id, failed.Id], claimed.Select(d => d.JobId).Order());
    }

    [Fact]
    public async Task A_database_from_before_the_outbox_is_migrated_and_its_jobs_kept()
    {
        var old = await FinishAsync(JobStatus.Failed);
        await _store.DisposeAsync();
        await DowngradeAsync();

        _store = OpenStore();
        await _store.InitializeAsync(CancellationToken.None);
        Assert.Equal(JobStatus.Failed, (await _store.GetAsync(old.Id, CancellationToken.None))!.Status);
        Assert.Null(await _store.GetWebhookAsync(old.Id, CancellationToken.None));
        var done = await FinishAsync(JobStatus.Done);
        Assert.Equal(WebhookStatus.Pending, (await _store.GetWebhookAsync(done.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task A_claimed_delivery_is_not_claimed_again_until_recorded_or_its_lease_expires()
    {
        for (var i = 0; i < 12; i++) await FinishAsync(JobStatus.Done);

        // Concurrent dispatchers split the due deliveries between them; none is handed out twice.
        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _store.ClaimWebhooksAsync(Lease, 5, CancellationToken.None)));
        var ids = claims.SelectMany(c => c).Select(d => d.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        while (ids.Count < 12)
            ids.AddRange((await _store.ClaimWebhooksAsync(Lease, 5, CancellationToken.None)).Select(d => d.Id));
        Assert.Equal(12, ids.Distinct().Count());
        Assert.Empty(await _store.ClaimWebhooksAsync(Lease, 100, CancellationToken.None));

        // Back to pending and due now: claimable again, as the next attempt.
        var first = claims.SelectMany(c => c).First();
        Assert.Equal(1, first.Attempts);
        Assert.True(await _store.RecordWebhookAsync(first.Id, 1, WebhookStatus.Pending, DateTimeOffset.UtcNow, "answered 500", CancellationToken.None));
        var again = Assert.Single(await _store.ClaimWebhooksAsync(Lease, 100, CancellationToken.None));
        Assert.Equal((first.Id, 2, "answered 500"), (again.Id, again.Attempts, again.LastError));
        // The first attempt's outcome arrives late: the delivery has moved on, so it is not recorded.
        Assert.False(await _store.RecordWebhookAsync(first.Id, 1, WebhookStatus.Delivered, DateTimeOffset.UtcNow, null, CancellationToken.None));
        Assert.True(await _store.RecordWebhookAsync(first.Id, 2, WebhookStatus.Delivered, DateTimeOffset.UtcNow, null, CancellationToken.None));
        var delivered = (await _store.GetWebhookAsync(first.JobId, CancellationToken.None))!;
        Assert.Equal(WebhookStatus.Delivered, delivered.Status);
        Assert.NotNull(delivered.DeliveredAt);

        // A claim whose lease ran out (its dispatcher died mid-send) is claimed again.
        await FinishAsync(JobStatus.Done);
        var abandoned = Assert.Single(await _store.ClaimWebhooksAsync(TimeSpan.FromMilliseconds(1), 100, CancellationToken.None));
        await Task.Delay(20);
        Assert.Equal(abandoned.Id, Assert.Single(await _store.ClaimWebhooksAsync(Lease, 100, CancellationToken.None)).Id);
    }

    [Fact]
    public async Task Two_dispatchers_sending_at_once_deliver_each_webhook_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var jobs = new List<Job>();
        for (var i = 0; i < 20; i++) jobs.Add(await FinishAsync(JobStatus.Done, receiver.Url));
        var settings = new JobSettings { WebhookSecret = "s" };
        var dispatchers = Enumerable.Range(0, 2).Select(_ => new JobWebhookDispatcher(
            _store, _store, new JobWebhookSender(HttpClients), settings, TimeSpan.FromMilliseconds(50), NullLogger<JobWebhookDispatcher>.Instance)).ToList();

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (receiver.Requests.Count < 20 && DateTime.UtcNow < deadline)
            await Task.WhenAll(dispatchers.Select(d => d.DispatchDueAsync(CancellationToken.None)));

        Assert.Equal(20, receiver.Requests.Count);
        Assert.Equal(20, receiver.Requests.Select(r => r.Headers["X-Iris-Delivery"]).Distinct().Count());
        Assert.All(receiver.Requests, r => Assert.Equal("1", r.Headers["X-Iris-Delivery-Attempt"]));
        foreach (var job in jobs)
            Assert.Equal(WebhookStatus.Delivered, (await _store.GetWebhookAsync(job.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Refused_webhook_is_retried_after_each_backoff_and_never_after_its_last_attempt()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = OpenStore(clock);
        await using var receiver = await WebhookReceiver.StartAsync(refusing: true);
        var now = clock.GetUtcNow();
        var job = new Job
        {
            Id = Job.NewId(clock), Tasks = ["echo"], InputRef = await _blobs.PutAsync(new byte[] { 1 }, CancellationToken.None),
            CreatedAt = now, UpdatedAt = now, CallbackUrl = receiver.Url,
        };
        await store.CreateAsync([job], CancellationToken.None);
        Assert.NotNull(await store.TryStartAsync(job.Id, "w1", Lease, 3, CancellationToken.None));
        Assert.True(await store.CompleteAsync(job.Id, "w1", "{}", [], CancellationToken.None));
        var settings = new JobSettings { WebhookSecret = "s", WebhookBaseDelay = TimeSpan.FromSeconds(10), WebhookMaxAttempts = 3 };
        var dispatcher = new JobWebhookDispatcher(store, store, new JobWebhookSender(HttpClients, clock), settings, TimeSpan.FromMilliseconds(50),
            NullLogger<JobWebhookDispatcher>.Instance, clock);

        // Attempt 1 now; then each attempt is due exactly one backoff (10 s, then 20 s) after the previous one, not a tick before.
        Assert.Equal(1, await dispatcher.DispatchDueAsync(CancellationToken.None));
        foreach (var backoff in new[] { TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20) })
        {
            clock.Advance(backoff - TimeSpan.FromMilliseconds(1));
            Assert.Equal(0, await dispatcher.DispatchDueAsync(CancellationToken.None));
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(1, await dispatcher.DispatchDueAsync(CancellationToken.None));
        }
        var failed = (await store.GetWebhookAsync(job.Id, CancellationToken.None))!;
        Assert.Equal(WebhookStatus.Failed, failed.Status);
        Assert.Equal(3, failed.Attempts);

        // Given up: however much time passes (a claim's lease, a day), no fourth attempt is made.
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await dispatcher.DispatchDueAsync(CancellationToken.None));
        Assert.Equal(["1", "2", "3"], receiver.Requests.Select(r => r.Headers["X-Iris-Delivery-Attempt"]));
        // The signature's timestamp is the dispatcher's clock.
        Assert.Equal((clock.GetUtcNow() - TimeSpan.FromDays(1)).ToUnixTimeSeconds().ToString(), receiver.Requests.Last().Headers["X-Iris-Timestamp"]);
    }

    [Fact]
    public async Task Retention_deletes_expired_finished_jobs_with_their_inputs_and_keeps_the_rest()
    {
        var retention = TimeSpan.FromSeconds(2);
        var done = await FinishAsync(JobStatus.Done);
        var failed = await FinishAsync(JobStatus.Failed);
        var canceled = await FinishAsync(JobStatus.Canceled, callbackUrl: null);
        var undelivered = await FinishAsync(JobStatus.Done);
        var queued = await CreateAsync();
        var processing = await CreateAsync();
        Assert.NotNull(await _store.TryStartAsync(processing.Id, "w1", Lease, 3, CancellationToken.None));
        // The webhooks of done and failed are settled; undelivered's stays pending.
        foreach (var claimed in await _store.ClaimWebhooksAsync(Lease, 100, CancellationToken.None))
        {
            var outcome = claimed.JobId == done.Id ? WebhookStatus.Delivered : claimed.JobId == failed.Id ? WebhookStatus.Failed : WebhookStatus.Pending;
            await _store.RecordWebhookAsync(claimed.Id, claimed.Attempts, outcome, DateTimeOffset.UtcNow, null, CancellationToken.None);
        }
        var latest = (await _store.GetAsync(canceled.Id, CancellationToken.None))!.CompletedAt!.Value;
        while (DateTimeOffset.UtcNow - latest <= retention) await Task.Delay(100);
        var recent = await FinishAsync(JobStatus.Failed, callbackUrl: null);

        // A batch of one per call: the sweep loops until a batch comes back short.
        var sweeper = new JobRetention(_store, _blobs, retention, batchSize: 1);
        Assert.Equal(3, await sweeper.SweepAsync(CancellationToken.None));

        foreach (var gone in new[] { done, failed, canceled })
        {
            Assert.Null(await _store.GetAsync(gone.Id, CancellationToken.None));
            Assert.Null(await _store.GetWebhookAsync(gone.Id, CancellationToken.None));
            Assert.False(BlobExists(gone), $"the input of {gone.Id} is still stored");
        }
        foreach (var kept in new[] { undelivered, queued, processing, recent })
        {
            Assert.NotNull(await _store.GetAsync(kept.Id, CancellationToken.None));
            Assert.True(BlobExists(kept), $"the input of {kept.Id} was deleted");
        }
        Assert.Equal(WebhookStatus.Pending, (await _store.GetWebhookAsync(undelivered.Id, CancellationToken.None))!.Status);
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
        Assert.Equal(0, await new JobRetention(_store, _blobs, TimeSpan.Zero).SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Concurrent_retention_sweeps_delete_each_job_once()
    {
        var jobs = new List<Job>();
        for (var i = 0; i < 30; i++) jobs.Add(await FinishAsync(JobStatus.Failed, callbackUrl: null));
        await Task.Delay(50);
        var deleted = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            Task.Run(() => new JobRetention(_store, _blobs, TimeSpan.FromMilliseconds(10), batchSize: 4).SweepAsync(CancellationToken.None))));
        // A sweeper that loses a race gets a short batch and stops until its next interval; one more sweep finishes.
        var rest = await new JobRetention(_store, _blobs, TimeSpan.FromMilliseconds(10), batchSize: 4).SweepAsync(CancellationToken.None);
        Assert.Equal(30, deleted.Sum() + rest);
        Assert.All(jobs, j => Assert.False(BlobExists(j)));
    }
}

public sealed class SqliteJobOutboxStoreTests : JobOutboxStoreContract
{
    private string Path => Scratch.File("jobs.db");

    protected override Task CreateDatabaseAsync() => Task.CompletedTask;

    protected override SqlJobStore OpenStore(TimeProvider? clock = null) => new SqliteJobStore(new SqliteJobDatabase(Path), clock);

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path};Pooling=false");
        await connection.OpenAsync();
        await using var command = new SqliteCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    protected override Task DowngradeAsync() =>
        ExecuteAsync("DROP TABLE webhook_deliveries; DROP INDEX jobs_completed; PRAGMA user_version = 2;");
}

public sealed class PostgresJobOutboxStoreTests : JobOutboxStoreContract
{
    private string _database = "";

    protected override async Task CreateDatabaseAsync() => _database = await TestServices.CreateDatabaseAsync();

    protected override SqlJobStore OpenStore(TimeProvider? clock = null) => new PostgresJobStore(_database, clock);

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    protected override Task DowngradeAsync() =>
        ExecuteAsync("DROP TABLE webhook_deliveries; DROP INDEX jobs_completed; DELETE FROM iris_schema_migrations WHERE version = 2;");

    protected override Task DropDatabaseAsync() => TestServices.DropDatabaseAsync(_database);
}
