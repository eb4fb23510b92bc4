using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Tests.Inference;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Http;

/// <summary>
/// Models:Preload, Models:IdleUnloadAfter and the residency metrics through the real server, on a fake clock: readiness
/// waits for a preloaded model, an idle unload keeps the server ready, and the next request loads the model again.
/// </summary>
public sealed partial class ModelResidencyApiTests
{
    [GeneratedRegex(@"^(?<name>[a-z_]+)\{(?<labels>[^}]*)\} (?<value>[-+0-9.eE]+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [Fact]
    public async Task Readiness_waits_for_preloaded_models_an_idle_unload_keeps_it_and_the_next_request_reloads_the_model()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-03T12:00:00Z"));
        var loader = new FakeModelLoader { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var fake = FakeModelLoader.Manifest("fake-preloaded");
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Models:Enabled"] = "auto",
            ["Models:Preload"] = "yolox-nano,fake-preloaded",
            ["Models:IdleUnloadAfter"] = "00:05:00",
            ["Jobs:Workers"] = "0",
        }, replaceServices: services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton<IModelLoader>(loader);
            services.AddSingleton(sp => new ModelCatalog([.. BuiltInManifests.Load(), fake], sp.GetRequiredService<ModelStore>().CacheDirectory));
        });

        using (var waiting = await host.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, waiting.StatusCode);
            var health = await waiting.Content.ReadFromJsonAsync<JsonElement>();
            var check = health.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "model:fake-preloaded");
            Assert.Equal("unhealthy", check.GetProperty("status").GetString());
            Assert.Equal(["yolox-nano", "fake-preloaded"], health.GetProperty("residency").GetProperty("preload").EnumerateArray().Select(p => p.GetString()));
            Assert.Equal(300, health.GetProperty("residency").GetProperty("idle_unload_after_seconds").GetDouble());
        }
        loader.Gate.SetResult();
        await host.WaitUntilReadyAsync();
        Assert.Equal("ready", (await Model(host, "yolox-nano")).GetProperty("state").GetString());

        time.Advance(TimeSpan.FromMinutes(5));

        var unloaded = await Model(host, "yolox-nano");
        Assert.Equal("unloaded", unloaded.GetProperty("state").GetString());
        Assert.Equal("idle", unloaded.GetProperty("unload_reason").GetString());
        Assert.Equal("unloaded", (await Model(host, "fake-preloaded")).GetProperty("state").GetString());
        using (var ready = await host.Client.GetAsync("/readyz"))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        using (var detect = await host.Client.PostAsync("/v1/detect", new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg")))))
        {
            Assert.Equal(HttpStatusCode.OK, detect.StatusCode);
            var result = await detect.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(result.GetProperty("objects").EnumerateArray(), o => o.GetProperty("label").GetString() == "dog");
        }
        var reloaded = await Model(host, "yolox-nano");
        Assert.Equal("ready", reloaded.GetProperty("state").GetString());
        Assert.True(reloaded.GetProperty("memory_bytes").GetInt64() > 0);
        Assert.Equal(time.GetUtcNow(), reloaded.GetProperty("last_used").GetDateTimeOffset());

        var samples = Sample().Matches(await host.Client.GetStringAsync("/metrics"))
            .Select(m => (Name: m.Groups["name"].Value, Labels: m.Groups["labels"].Value, Value: double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)))
            .ToList();
        double Value(string name, params string[] labels) => samples.Where(s => s.Name == name && labels.All(s.Labels.Contains)).Sum(s => s.Value);
        Assert.True(Value("iris_model_loads_total", "model=\"yolox-nano\"", "reason=\"preload\"") >= 1);
        Assert.True(Value("iris_model_loads_total", "model=\"yolox-nano\"", "reason=\"reload_after_unload\"") >= 1);
        Assert.True(Value("iris_model_unloads_total", "model=\"yolox-nano\"", "reason=\"idle\"") >= 1);
        // Gauges: other tests' servers in this process report their own yolox-nano too, so look for this one's sample.
        bool Has(string name, string[] labels, Func<double, bool> value) => samples.Any(s => s.Name == name && labels.All(s.Labels.Contains) && value(s.Value));
        Assert.True(Has("iris_model_loaded", ["model=\"yolox-nano\"", "task=\"detect\""], v => v == 1));
        Assert.Equal(0, Value("iris_model_loaded", "model=\"fake-preloaded\"", "task=\"fake\""));
        // A load's estimate may be replaced by its measured growth (ModelResidency.MeasureLoads) between the reads: the gauge
        // equals what the API said before the scrape or after it.
        var memoryAfter = (await Model(host, "yolox-nano")).GetProperty("memory_bytes").GetInt64();
        Assert.True(Has("iris_model_memory_bytes", ["model=\"yolox-nano\""], v => v == reloaded.GetProperty("memory_bytes").GetInt64() || v == memoryAfter),
            $"no iris_model_memory_bytes sample for yolox-nano equals {reloaded.GetProperty("memory_bytes").GetInt64()} or {memoryAfter}: " +
            string.Join(", ", samples.Where(s => s.Name == "iris_model_memory_bytes").Select(s => $"{s.Labels}={s.Value}")));
        Assert.True(Has("iris_model_last_used_timestamp_seconds", ["model=\"yolox-nano\""], v => Math.Abs(v - time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0) < 0.01));
    }

    [Theory]
    [InlineData("Models:IdleUnloadAfter", "300", "Models:IdleUnloadAfter must be between")]
    [InlineData("Models:MemoryBudget", "two gigs", "Models:MemoryBudget must be a positive size")]
    [InlineData("Models:Preload", "clip-tiny", "set only Models:Preload")]
    public async Task A_bad_residency_option_fails_start_up_naming_the_key(string key, string value, string message)
    {
        var error = await Assert.ThrowsAsync<Iris.Configuration.InvalidConfigurationException>(() =>
            IrisTestHost.StartAsync(new Dictionary<string, string?> { [key] = value, ["Models:LoadOnStartup"] = "false" }));
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("512 MiB", 512L << 20)]
    [InlineData("1.5GB", 1_500_000_000L)]
    [InlineData("1500000000", 1_500_000_000L)]
    public void Memory_budgets_are_read_in_the_units_operators_write(string text, long bytes)
    {
        Assert.True(Iris.Configuration.ByteSize.TryParse(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    private static async Task<JsonElement> Model(IrisTestHost host, string name) =>
        await host.Client.GetFromJsonAsync<JsonElement>($"/v1/models/{name}");
}
