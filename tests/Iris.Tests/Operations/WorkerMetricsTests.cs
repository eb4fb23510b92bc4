using System.Net;
using Iris.Tests.Support;

namespace Iris.Tests.Operations;

/// <summary><c>iris worker</c> with Metrics:WorkerUrls serves its metrics and /healthz, so the worker tier can be scraped.</summary>
public sealed class WorkerMetricsTests
{
    [Fact]
    public async Task A_worker_with_worker_urls_serves_metrics_and_healthz()
    {
        using var scratch = new TempDirectory();
        var port = Tools.FreePort();
        await using var worker = IrisDaemon.Start(["worker", "--concurrency", "1"], new Dictionary<string, string>
        {
            ["IRIS__Metrics__WorkerUrls"] = $"http://127.0.0.1:{port}",
            ["IRIS__Models__CacheDirectory"] = scratch.File("models"),
            ["IRIS__Models__LoadOnStartup"] = "false",
            ["IRIS__Jobs__Database"] = scratch.File("jobs.db"),
            ["IRIS__Jobs__InputDirectory"] = scratch.File("inputs"),
            ["IRIS__Storage__Directory"] = scratch.File("images"),
            ["IRIS__Library__IndexDatabase"] = scratch.File("vectors.db"),
        });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow.AddMinutes(2);
        string? metrics = null;
        while (metrics is null)
        {
            Assert.False(worker.HasExited, "the worker exited: " + string.Join('\n', worker.Lines.TakeLast(20)));
            try { metrics = await client.GetStringAsync("/metrics"); }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { await Task.Delay(200); }
        }
        Assert.Contains("iris_build_info{", metrics);
        // The worker reads its queue like the API does; a worker is where the jobs and model runs are counted.
        Assert.Contains("iris_job_queue_depth{", metrics);
        using var health = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var other = await client.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }
}
