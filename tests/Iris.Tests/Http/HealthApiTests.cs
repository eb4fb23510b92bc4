using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

public class HealthApiTests
{
    [Fact]
    public async Task Missing_model_gives_503_with_a_clear_detail_and_readyz_is_not_ready()
    {
        // No mirror, no download URL for the labels file, auto-pull off: the model cannot be had.
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Models:AutoPull"] = "false" }, withMirror: false);

        using var liveness = await host.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, liveness.StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage ready;
        do
        {
            ready = await host.Client.GetAsync("/readyz");
            var health = await ready.Content.ReadFromJsonAsync<JsonElement>();
            if (health.GetProperty("models")[0].GetProperty("state").GetString() == "failed") break;
            await Task.Delay(50);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg")));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var detect = await host.Client.PostAsync("/v1/detect", content);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, detect.StatusCode);
        Assert.Equal("application/problem+json", detect.Content.Headers.ContentType?.MediaType);
        var problem = await detect.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("iris models pull yolox-nano", problem.GetProperty("detail").GetString());
        Assert.True(detect.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task Corrupt_model_file_is_never_loaded_and_readiness_says_why()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Models:LoadOnStartup"] = "false", ["Models:AutoPull"] = "false" });
        var modelDirectory = Path.Combine(host.CacheDirectory, "yolox-nano");
        Directory.CreateDirectory(modelDirectory);
        File.Copy(Path.Combine(TestPaths.ModelMirror, "yolox-nano", "coco-labels.txt"), Path.Combine(modelDirectory, "coco-labels.txt"));
        var onnx = await File.ReadAllBytesAsync(Path.Combine(TestPaths.ModelMirror, "yolox-nano", "yolox_nano.onnx"));
        onnx[onnx.Length / 2] ^= 0x5A; // same size, different content
        await File.WriteAllBytesAsync(Path.Combine(modelDirectory, "yolox_nano.onnx"), onnx);

        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg")));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var detect = await host.Client.PostAsync("/v1/detect", content);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, detect.StatusCode);
        Assert.Contains("sha256", (await detect.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        using var ready = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    [Fact]
    public async Task Ready_server_reports_each_model_and_the_storage_check()
    {
        await using var host = await IrisTestHost.StartAsync();
        await host.WaitUntilReadyAsync();
        var health = await host.Client.GetFromJsonAsync<JsonElement>("/health");
        Assert.Equal("ready", health.GetProperty("status").GetString());
        var checks = health.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Contains("storage:model-cache", checks);
        Assert.Contains("model:yolox-nano", checks);
        // The thread budget in force, "auto" resolved to the cores the process may use.
        var inference = health.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "inference");
        Assert.Contains($"{Iris.Core.Inference.CpuBudget.Process.Cores} core(s)", inference.GetProperty("detail").GetString());
        // Adaptive sessions need a second core.
        if (Iris.Core.Inference.CpuBudget.Process.Cores > 1)
            Assert.Contains("Inference:AdaptiveSessions", inference.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Lazily_loaded_model_loads_on_its_first_request()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Models:LoadOnStartup"] = "false" });
        var before = await host.Client.GetFromJsonAsync<JsonElement>("/v1/models/yolox-nano");
        Assert.Equal("not_loaded", before.GetProperty("state").GetString());

        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg")));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var detect = await host.Client.PostAsync("/v1/detect", content);
        Assert.Equal(HttpStatusCode.OK, detect.StatusCode);
        var after = await host.Client.GetFromJsonAsync<JsonElement>("/v1/models/yolox-nano");
        Assert.Equal("ready", after.GetProperty("state").GetString());
    }
}
