using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Iris.Tests.Support;

namespace Iris.Tests.Jobs;

/// <summary>
/// Crash safety with real processes: workers are killed with SIGKILL mid-run and servers restarted with jobs queued;
/// every accepted job must still reach done, exactly once.
/// </summary>
public sealed partial class JobCrashSafetyTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [GeneratedRegex(@"Job (?<id>[0-9a-f]{32}) done by")]
    private static partial Regex DoneLine();

    /// <summary>Settings every process of one test shares: the same job database, inputs and model cache.</summary>
    private Dictionary<string, string> Environment(int workers, string? urls = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["IRIS__Jobs__Database"] = _data.File("jobs.db"),
            ["IRIS__Jobs__InputDirectory"] = _data.File("inputs"),
            ["IRIS__Jobs__Workers"] = workers.ToString(),
            ["IRIS__Jobs__LeaseSeconds"] = "3",
            ["IRIS__Jobs__PollIntervalMs"] = "50",
            ["IRIS__Models__CacheDirectory"] = _data.File("models"),
            ["IRIS__Models__Mirror"] = TestPaths.ModelMirror,
            ["IRIS__Models__Enabled"] = "yolox-nano",
            ["IRIS__Log__Format"] = "text",
            ["IRIS__Log__Level"] = "Information",
        };
        if (urls is not null) environment["IRIS__Server__Urls"] = urls;
        return environment;
    }

    private static async Task<List<string>> SubmitAsync(HttpClient client, int count)
    {
        var image = await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"));
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(image);
            file.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
            form.Add(file, "image", $"dog{i}.jpg");
            using var response = await client.PostAsync("/v1/jobs?min_confidence=0.5", form);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
        }
        return ids;
    }

    private static async Task<Dictionary<string, JsonElement>> WaitAllDoneAsync(HttpClient client, IReadOnlyList<string> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var jobs = new Dictionary<string, JsonElement>();
            foreach (var id in ids)
                jobs[id] = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
            var pending = jobs.Values.Count(j => j.GetProperty("status").GetString() != "done");
            if (pending == 0) return jobs;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{pending} of {ids.Count} jobs are not done: " +
                    string.Join(", ", jobs.Values.Where(j => j.GetProperty("status").GetString() != "done").Take(5).Select(j => j.ToString())));
            await Task.Delay(250);
        }
    }

    private static List<string> CompletedIds(params IrisDaemon[] processes) =>
        processes.SelectMany(p => p.Lines).Select(l => DoneLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["id"].Value).ToList();

    /// <summary>The environment of every process of a test on one store × queue combination; a PostgreSQL database is created for it.</summary>
    private async Task<(Dictionary<string, string> Environment, Func<Task> Cleanup)> BackendAsync(string store, string queue, int workers, string? urls = null)
    {
        var environment = Environment(workers, urls);
        environment["IRIS__Jobs__Store"] = store;
        environment["IRIS__Jobs__Queue"] = queue;
        var name = "iris-crash-" + Guid.NewGuid().ToString("N")[..8];
        string? database = null;
        if (store == "postgres")
            environment["IRIS__Jobs__Postgres__ConnectionString"] = database = await TestServices.CreateDatabaseAsync();
        if (queue == "redis")
        {
            environment["IRIS__Jobs__Redis__ConnectionString"] = TestServices.Redis;
            environment["IRIS__Jobs__Redis__Stream"] = name;
        }
        if (queue == "rabbitmq")
        {
            environment["IRIS__Jobs__RabbitMq__Uri"] = TestServices.RabbitMq;
            environment["IRIS__Jobs__RabbitMq__Queue"] = name;
        }
        return (environment, () => database is null ? Task.CompletedTask : TestServices.DropDatabaseAsync(database));
    }

    [Theory]
    [InlineData("sqlite", "embedded")]
    [InlineData("postgres", "redis")]
    [InlineData("sqlite", "rabbitmq")]
    public async Task Killed_worker_jobs_are_redelivered_and_all_100_complete_exactly_once(string store, string queue)
    {
        var (environment, cleanup) = await BackendAsync(store, queue, workers: 0);
        try
        {
            await RunCrashScenarioAsync(environment);
        }
        finally
        {
            await cleanup();
        }
    }

    private static async Task RunCrashScenarioAsync(Dictionary<string, string> environment)
    {
        // An API-only server (no workers) accepts the jobs; separate worker processes run them.
        await using var api = await IrisTestHost.StartAsync(environment.ToDictionary(
            p => p.Key["IRIS__".Length..].Replace("__", ":"), p => (string?)p.Value));
        var ids = await SubmitAsync(api.Client, 100);

        var first = IrisDaemon.Start(["worker", "--concurrency", "2"], environment);
        // Killed from the output reader at its 20th completion: YOLOX-Nano runs a job in a few milliseconds, so a test
        // that polled for the count could find the worker already through all 100 on a busy machine.
        await first.KillAfterLinesAsync(l => DoneLine().IsMatch(l), 20, TimeSpan.FromMinutes(3));
        var killedAt = DateTimeOffset.UtcNow;
        var doneByFirst = CompletedIds(first).Count;
        Assert.InRange(doneByFirst, 20, 99);

        await using var second = IrisDaemon.Start(["worker", "--concurrency", "2"], environment);
        var jobs = await WaitAllDoneAsync(api.Client, ids, TimeSpan.FromMinutes(5));

        // Every job is done (none lost), and no job was completed twice (none duplicated).
        var completions = CompletedIds(first, second);
        Assert.Equal(completions.Count, completions.Distinct().Count());
        Assert.Empty(completions.Except(ids));
        // A job the killed worker completed in the store but had no time to log: at most one per slot, and done before the kill.
        var unlogged = ids.Except(completions).ToList();
        Assert.True(unlogged.Count <= 2, $"{unlogged.Count} jobs done without a completion line");
        Assert.All(unlogged, id => Assert.True(jobs[id].GetProperty("completed_at").GetDateTimeOffset() <= killedAt, $"{id} completed after the kill yet was not logged"));
        Assert.All(jobs.Values, j => Assert.Equal("done", j.GetProperty("status").GetString()));
        Assert.All(jobs.Values, j => Assert.Contains(j.GetProperty("generated_by").EnumerateArray(), m => m.GetProperty("name").GetString() == "yolox-nano"));
        foreach (var id in ids.Take(3))
        {
            var result = await api.Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/result");
            Assert.Contains(result.GetProperty("detect").GetProperty("objects").EnumerateArray(), o => o.GetProperty("label").GetString() == "dog");
        }
    }

    [Theory]
    [InlineData("sqlite", "embedded")]
    [InlineData("postgres", "redis")]
    [InlineData("sqlite", "rabbitmq")]
    public async Task Jobs_queued_when_the_server_is_killed_complete_after_it_restarts(string store, string queue)
    {
        var urls = $"http://127.0.0.1:{FreePort()}";
        using var client = new HttpClient { BaseAddress = new Uri(urls), Timeout = TimeSpan.FromSeconds(60) };
        var (acceptOnly, cleanup) = await BackendAsync(store, queue, workers: 0, urls);
        try
        {
            // Workers=0: the first server only accepts, so every job is still queued when it is killed.
            var first = IrisDaemon.Start(["serve"], acceptOnly);
            await first.WaitForLineAsync(l => l.Contains("Now listening", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
            var ids = await SubmitAsync(client, 10);
            await first.KillAsync();

            var withWorkers = new Dictionary<string, string>(acceptOnly) { ["IRIS__Jobs__Workers"] = "2" };
            await using var second = IrisDaemon.Start(["serve"], withWorkers);
            await second.WaitForLineAsync(l => l.Contains("Now listening", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
            await WaitAllDoneAsync(client, ids, TimeSpan.FromMinutes(3));
            Assert.Equal(ids.Order(), CompletedIds(second).Order());
            Assert.Equal(0, await second.StopAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            await cleanup();
        }
    }

    [Theory]
    [InlineData("sqlite", "embedded")]
    [InlineData("postgres", "redis")]
    [InlineData("sqlite", "rabbitmq")]
    public async Task Job_that_takes_its_process_down_every_time_is_dead_lettered_after_MaxAttempts_and_the_server_stays_up(string store, string queue)
    {
        var (environment, cleanup) = await BackendAsync(store, queue, workers: 0);
        environment["IRIS__Jobs__MaxAttempts"] = "3";
        try
        {
            await using var api = await IrisTestHost.StartAsync(environment.ToDictionary(
                p => p.Key["IRIS__".Length..].Replace("__", ":"), p => (string?)p.Value));
            var id = (await SubmitAsync(api.Client, 1))[0];
            // The job's input becomes a FIFO no one writes to: reading it never returns, so every worker that takes the
            // job is stuck inside it until the test kills the process, as a job that crashes its process would leave it.
            var input = Directory.GetFiles(_data.File("inputs")).Single();
            File.Delete(input);
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [input])!)
            {
                await mkfifo.WaitForExitAsync();
                Assert.Equal(0, mkfifo.ExitCode);
            }

            for (var attempt = 1; attempt <= 3; attempt++)
            {
                var doomed = IrisDaemon.Start(["worker", "--concurrency", "1"], environment);
                await WaitForJobAsync(api.Client, id, j => j.GetProperty("status").GetString() == "processing"
                    && j.GetProperty("attempts").GetInt32() == attempt, TimeSpan.FromMinutes(1));
                await doomed.KillAsync();
                await doomed.DisposeAsync();
            }

            var urls = $"http://127.0.0.1:{FreePort()}";
            await using var server = IrisDaemon.Start(["serve"], new Dictionary<string, string>(environment)
            {
                ["IRIS__Jobs__Workers"] = "1", ["IRIS__Server__Urls"] = urls,
            });
            var failed = await WaitForJobAsync(api.Client, id, j => j.GetProperty("status").GetString() == "failed", TimeSpan.FromMinutes(1));
            Assert.Equal(3, failed.GetProperty("attempts").GetInt32());
            Assert.StartsWith("worker died while processing", failed.GetProperty("error").GetString());
            using var client = new HttpClient { BaseAddress = new Uri(urls), Timeout = TimeSpan.FromSeconds(30) };
            await server.WaitForLineAsync(l => l.Contains("Now listening", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
            Assert.False(server.HasExited);
            Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            await cleanup();
        }
    }

    private static async Task<JsonElement> WaitForJobAsync(HttpClient client, string id, Func<JsonElement, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
            if (condition(job)) return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Job {id} did not get there in time: {job}");
            await Task.Delay(100);
        }
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
