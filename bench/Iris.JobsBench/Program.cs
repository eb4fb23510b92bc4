// Jobs throughput (issue #5): the synchronous route vs the same task through each queue, and each queue's own
// overhead per job with a no-op task. Usage:
//   dotnet run -c Release --project bench/Iris.JobsBench -- [images=40] [noop=500]
// Redis and RabbitMQ rows run when IRIS_TEST_REDIS / IRIS_TEST_RABBITMQ are set (scripts/start-test-services.sh).
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Configuration;
using Iris.Core.Jobs;
using Iris.Core.Jobs.RabbitMq;
using Iris.Core.Jobs.Redis;
using Iris.Core.Jobs.Sqlite;
using Iris.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

var images = args.Length > 0 ? int.Parse(args[0]) : 40;
var noops = args.Length > 1 ? int.Parse(args[1]) : 500;
var root = FindRoot();
var shared = Environment.GetEnvironmentVariable("IRIS_TEST_SHARED") ?? Path.Combine(root, "..", "shared");
var dog = await File.ReadAllBytesAsync(Path.Combine(shared, "testdata", "real", "dog.jpg"));
var scratch = Directory.CreateTempSubdirectory("iris-jobs-bench").FullName;
var redis = Environment.GetEnvironmentVariable("IRIS_TEST_REDIS");
var rabbit = Environment.GetEnvironmentVariable("IRIS_TEST_RABBITMQ");
Console.WriteLine($"{Environment.ProcessorCount} cores; {images} detect images per row (concurrency 2); {noops} no-op jobs per queue row");
Console.WriteLine();
Console.WriteLine("| path | jobs | seconds | jobs/s |");
Console.WriteLine("|---|---:|---:|---:|");

await DetectRowAsync("POST /v1/detect (synchronous, 2 clients)", "embedded", sync: true);
await DetectRowAsync("POST /v1/jobs, embedded queue (SQLite), 2 workers", "embedded", sync: false);
if (redis is not null) await DetectRowAsync("POST /v1/jobs, Redis Streams, 2 workers", "redis", sync: false);
if (rabbit is not null) await DetectRowAsync("POST /v1/jobs, RabbitMQ, 2 workers", "rabbitmq", sync: false);

Console.WriteLine();
Console.WriteLine("| queue (no-op task) | enqueue µs/job | receive+ack µs/job | submit→done jobs/s (JobService + 2 workers) |");
Console.WriteLine("|---|---:|---:|---:|");
await NoopRowAsync("embedded (SQLite)", () => { var db = new SqliteJobDatabase(Path.Combine(scratch, $"noop-{Guid.NewGuid():N}.db")); return (new SqliteJobQueue(db, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50)), db); });
if (redis is not null) await NoopRowAsync("Redis Streams", () => (new RedisStreamsJobQueue(redis, $"bench-{Guid.NewGuid():N}", "g", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20)), null));
if (rabbit is not null) await NoopRowAsync("RabbitMQ", () => (new RabbitMqJobQueue(rabbit, $"bench-{Guid.NewGuid():N}", 32), null));
Directory.Delete(scratch, recursive: true);

async Task DetectRowAsync(string name, string queue, bool sync)
{
    var name8 = Guid.NewGuid().ToString("N")[..8];
    var settings = new Dictionary<string, string?>
    {
        ["Server:Urls"] = "http://127.0.0.1:0", ["Models:CacheDirectory"] = Path.Combine(scratch, "models"),
        ["Models:Mirror"] = Path.Combine(shared, "models"), ["Log:Level"] = "Warning",
        ["Jobs:Database"] = Path.Combine(scratch, $"{name8}.db"), ["Jobs:InputDirectory"] = Path.Combine(scratch, name8),
        ["Jobs:Queue"] = queue, ["Jobs:Workers"] = "2", ["Jobs:PollIntervalMs"] = "20",
        ["Jobs:Redis:ConnectionString"] = redis, ["Jobs:Redis:Stream"] = "bench-" + name8,
        ["Jobs:RabbitMq:Uri"] = rabbit, ["Jobs:RabbitMq:Queue"] = "bench-" + name8,
    };
    var configuration = IrisConfiguration.Build(overrides: settings);
    await using var app = IrisServer.Build(IrisConfiguration.Load(configuration), configuration);
    await app.StartAsync();
    using var client = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
    while (!(await client.GetAsync("/readyz")).IsSuccessStatusCode) await Task.Delay(50);
    // Warm-up: the first inference pays for lazy initialisation.
    await client.PostAsync("/v1/detect", Form());

    var clock = Stopwatch.StartNew();
    if (sync)
    {
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= images)
                (await client.PostAsync("/v1/detect", Form())).EnsureSuccessStatusCode();
        }));
    }
    else
    {
        var ids = new List<string>();
        for (var i = 0; i < images; i++)
        {
            using var response = await client.PostAsync("/v1/jobs", Form());
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }
        foreach (var id in ids)
            while ((await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}")).GetProperty("status").GetString() != "done")
                await Task.Delay(20);
    }
    var seconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine($"| {name} | {images} | {seconds:F2} | {images / seconds:F1} |");
    await app.StopAsync();
}

async Task NoopRowAsync(string name, Func<(IJobQueue Queue, SqliteJobDatabase? Database)> create)
{
    // Raw queue overhead: enqueue N, then receive and acknowledge N.
    var (queue, database) = create();
    await queue.InitializeAsync(CancellationToken.None);
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < noops; i++) await queue.EnqueueAsync(Job.NewId(), TimeSpan.Zero, CancellationToken.None);
    var enqueueUs = clock.Elapsed.TotalMicroseconds / noops;
    clock.Restart();
    for (var i = 0; i < noops; i++)
    {
        var delivery = await queue.ReceiveAsync(TimeSpan.FromSeconds(10), CancellationToken.None) ?? throw new InvalidOperationException("queue ran dry");
        await queue.AckAsync(delivery, CancellationToken.None);
    }
    var receiveUs = clock.Elapsed.TotalMicroseconds / noops;
    await queue.DisposeAsync();

    // The whole job path with a task that does nothing: store, blob, queue, worker, result.
    var (pipelineQueue, pipelineDatabase) = create();
    var store = new SqliteJobStore(pipelineDatabase ?? new SqliteJobDatabase(Path.Combine(scratch, $"store-{Guid.NewGuid():N}.db")));
    await store.InitializeAsync(CancellationToken.None);
    await pipelineQueue.InitializeAsync(CancellationToken.None);
    var blobs = new LocalDiskJobBlobStore(Path.Combine(scratch, "noop-inputs"));
    var processor = new NoopProcessor();
    var jobSettings = new JobSettings { MaxQueued = noops + 1 };
    var service = new JobService(store, pipelineQueue, blobs, processor, jobSettings);
    using var stop = new CancellationTokenSource();
    var worker = new JobWorker(store, pipelineQueue, blobs, processor, jobSettings).RunAsync(2, stop.Token);
    clock.Restart();
    var last = "";
    for (var i = 0; i < noops; i++)
        last = (await service.SubmitAsync(new JobSubmission([new JobInputImage(new byte[16], null)], ["noop"], new Dictionary<string, string>()), CancellationToken.None)).Jobs[0].Id;
    while ((await store.CountAsync(JobStatus.Done, CancellationToken.None)) < noops) await Task.Delay(10);
    var jobsPerSecond = noops / clock.Elapsed.TotalSeconds;
    await stop.CancelAsync();
    await worker;
    await pipelineQueue.DisposeAsync();
    Console.WriteLine($"| {name} | {enqueueUs:F0} | {receiveUs:F0} | {jobsPerSecond:F0} |");
}

MultipartFormDataContent Form() => new() { { new ByteArrayContent(dog), "image", "dog.jpg" } };

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Iris.slnx"))) return dir.FullName;
    throw new InvalidOperationException("Iris.slnx not found");
}

sealed class NoopProcessor : IJobProcessor
{
    public IReadOnlyCollection<string> Tasks { get; } = ["noop"];
    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters) { }
    public Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken) => Task.FromResult(new JobOutput("{}", []));
}
