using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Iris.Tests.Support;

namespace Iris.Tests.Operations;

/// <summary>
/// A running Iris that has served the routes the dashboards chart (detections, a refused image, a job run to the end),
/// and Debian's Prometheus scraping it every second with the rules of
/// deploy/prometheus loaded: the real consumer of /metrics, for <see cref="ScrapeTests"/> and <see cref="DashboardTests"/>.
/// Iris runs as its own <c>iris serve</c> process, as in production: instruments are process-wide, and the other test
/// hosts of this test process would otherwise report through its /metrics too.
/// </summary>
public sealed partial class OperationsStack : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private IrisDaemon? _daemon;

    public Uri Address { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public PrometheusServer Prometheus { get; private set; } = null!;

    /// <summary>Metric families (name → type) of a scrape after the exercise.</summary>
    public Dictionary<string, string> ScrapedFamilies { get; } = [];

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    public async Task InitializeAsync()
    {
        Address = new Uri($"http://127.0.0.1:{Jobs.JobCrashSafetyTests.FreePort()}");
        _daemon = IrisDaemon.Start(["serve"], new Dictionary<string, string>
        {
            ["IRIS__Server__Urls"] = Address.ToString().TrimEnd('/'),
            ["IRIS__Metrics__GaugeCacheSeconds"] = "1",
            ["IRIS__Models__Preload"] = "yolox-nano",
            ["IRIS__Models__Mirror"] = TestPaths.ModelMirror,
            ["IRIS__Models__CacheDirectory"] = _data.File("models"),
            ["IRIS__Jobs__Database"] = _data.File("jobs.db"),
            ["IRIS__Jobs__InputDirectory"] = _data.File("inputs"),
            ["IRIS__Storage__Directory"] = _data.File("blobs"),
            ["IRIS__Library__IndexDatabase"] = _data.File("vectors.db"),
            ["IRIS__Log__Format"] = "text",
        });
        Client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        await WaitUntilReadyAsync(Client, TimeSpan.FromSeconds(90));
        await ExerciseAsync(Client);
        await AddScrapeAsync(Client);

        Prometheus = await PrometheusServer.StartAsync(Address);
    }

    private async Task WaitUntilReadyAsync(HttpClient client, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_daemon!.HasExited, "iris serve exited: " + string.Join("\n", _daemon.Lines.TakeLast(20)));
            try
            {
                using var ready = await client.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            Assert.True(deadline.Elapsed < timeout, "iris serve was not ready in time: " + string.Join("\n", _daemon.Lines.TakeLast(20)));
            await Task.Delay(200);
        }
    }

    private static async Task ExerciseAsync(HttpClient client)
    {
        var dog = await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"));
        using (var form = new MultipartFormDataContent { { new ByteArrayContent(dog), "image", "dog.jpg" } })
        using (var detected = await client.PostAsync("/v1/detect", form))
            Assert.Equal(HttpStatusCode.OK, detected.StatusCode);
        using (var refused = await client.PostAsync("/v1/detect", new ByteArrayContent("not pixels"u8.ToArray())))
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);

        string id;
        using (var form = new MultipartFormDataContent { { new ByteArrayContent(dog), "image", "dog.jpg" }, { new StringContent("detect"), "tasks" } })
        using (var submitted = await client.PostAsync("/v1/jobs", form))
        {
            Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
            id = (string)(await submitted.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
        }
        var deadline = Stopwatch.StartNew();
        while ((string?)(await client.GetFromJsonAsync<JsonObject>($"/v1/jobs/{id}"))!["status"] is "queued" or "processing")
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the job did not finish");
            await Task.Delay(100);
        }
    }

    private async Task AddScrapeAsync(HttpClient client)
    {
        foreach (Match m in TypeLine().Matches(await client.GetStringAsync("/metrics")))
            ScrapedFamilies[m.Groups["name"].Value] = m.Groups["type"].Value;
    }

    public async Task DisposeAsync()
    {
        if (Prometheus is not null) await Prometheus.DisposeAsync();
        Client?.Dispose();
        if (_daemon is not null) await _daemon.DisposeAsync();
        _data.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class OperationsStackCollection : ICollectionFixture<OperationsStack>
{
    public const string Name = "Operations stack";
}

/// <summary>Debian's <c>prometheus</c> on a free loopback port with temporary storage, scraping one Iris every second.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private PrometheusServer(Process process, TempDirectory directory, Uri address)
    {
        _process = process;
        _directory = directory;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }
    public HttpClient Client { get; }

    public static async Task<PrometheusServer> StartAsync(Uri iris)
    {
        var directory = new TempDirectory();
        // The rules of deploy/prometheus are loaded as they are: the recording rules' names are then queryable too.
        var config = $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - {Tools.Deploy("prometheus", "rules")}/*.yml
            scrape_configs:
              - job_name: iris
                metrics_path: /metrics
                static_configs:
                  - targets: ["{iris.Authority}"]
            """;
        await File.WriteAllTextAsync(directory.File("prometheus.yml"), config);
        var port = Tools.FreePort();
        var start = new ProcessStartInfo(Tools.Which("prometheus")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--config.file=" + directory.File("prometheus.yml"), "--storage.tsdb.path=" + directory.File("data"),
                     $"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle" })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}"));
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var ready = await server.Client.GetAsync("/-/ready");
                if (ready.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) { }
            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                await server.DisposeAsync();
                lock (log) throw new InvalidOperationException("Prometheus did not start: " + log);
            }
            await Task.Delay(100);
        }
        return server;
    }

    /// <summary>An instant query through the HTTP API: the answer's <c>data.result</c>, or an exception with Prometheus's error.</summary>
    public async Task<JsonArray> QueryAsync(string expr)
    {
        using var response = await Client.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(expr));
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        if ((string?)body?["status"] != "success")
            throw new PromQlException(expr, (string?)body?["error"] ?? response.StatusCode.ToString());
        return body!["data"]!["result"]!.AsArray();
    }

    /// <summary>Waits until <paramref name="expr"/> has at least one series (a scrape or a rule evaluation has happened).</summary>
    public async Task<JsonArray> WaitForAsync(string expr, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var result = await QueryAsync(expr);
            if (result.Count > 0) return result;
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
                throw new TimeoutException($"`{expr}` had no series after {deadline.Elapsed.TotalSeconds:F0} s; targets: {await Client.GetStringAsync("/api/v1/targets")}; rules: {await Client.GetStringAsync("/api/v1/rules")}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _directory.Dispose();
    }
}

public sealed class PromQlException(string expr, string error) : Exception($"Prometheus refused `{expr}`: {error}");
