using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Configuration;
using Iris.Tests.Support;

namespace Iris.Tests.Facades;

/// <summary>
/// The operational hooks the captioning service (seed 000) documents, as its operators use them on Iris: a bearer key
/// on /metrics (METRICS_API_KEY → Metrics:ApiKey), CORS origins (ORIGINS → Cors:Origins), and a /readyz that is 200
/// only once every model the routes need is loaded (Models:Enabled=auto).
/// </summary>
public sealed class CaptionServiceOperationsTests
{
    private static Dictionary<string, string?> Lazily(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?> { ["Models:LoadOnStartup"] = "false", ["Jobs:Workers"] = "0" };
        foreach (var (key, value) in settings) all[key] = value;
        return all;
    }

    private static async Task<string> UnauthorizedDetailAsync(HttpClient client, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = authorization;
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task Metrics_with_an_api_key_answer_only_the_bearer_of_that_key()
    {
        await using var host = await IrisTestHost.StartAsync(Lazily(("Metrics:ApiKey", "sk_change_key")));
        Assert.Contains("Missing Authorization header", await UnauthorizedDetailAsync(host.Client, null));
        Assert.Contains("Invalid API key", await UnauthorizedDetailAsync(host.Client, new AuthenticationHeaderValue("Bearer", "sk_change_kez")));
        Assert.Contains("Invalid authorization scheme", await UnauthorizedDetailAsync(host.Client, new AuthenticationHeaderValue("Basic", "c2s6a2V5")));

        // What Prometheus sends with `authorization: {credentials: sk_change_key}`.
        using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "sk_change_key") } };
        using var metrics = await host.Client.SendAsync(scrape);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("# TYPE", await metrics.Content.ReadAsStringAsync());
        // The key guards the metrics alone.
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Metrics_stay_open_without_an_api_key()
    {
        await using var host = await IrisTestHost.StartAsync(Lazily());
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/metrics")).StatusCode);
    }

    private static HttpRequestMessage Preflight(string path, string origin) => new(HttpMethod.Options, path)
    {
        Headers =
        {
            { "Origin", origin },
            { "Access-Control-Request-Method", "POST" },
            { "Access-Control-Request-Headers", "content-type" },
        },
    };

    [Fact]
    public async Task Listed_origins_get_a_preflight_answer_and_cors_headers_others_get_none()
    {
        await using var host = await IrisTestHost.StartAsync(Lazily(("Cors:Origins", "https://flowers.example.com, http://localhost:3000")));

        using var preflight = await host.Client.SendAsync(Preflight("/api/v1/describe/dataurl", "http://localhost:3000"));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal("http://localhost:3000", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", preflight.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Contains("content-type", preflight.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("true", preflight.Headers.GetValues("Access-Control-Allow-Credentials").Single());

        using var stranger = await host.Client.SendAsync(Preflight("/api/v1/describe/dataurl", "https://evil.example.net"));
        Assert.False(stranger.Headers.Contains("Access-Control-Allow-Origin"));

        // A refused request still carries the header, so the browser lets the page read the problem.
        using var refused = new HttpRequestMessage(HttpMethod.Post, "/api/v1/describe/dataurl")
        {
            Headers = { { "Origin", "https://flowers.example.com" } },
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        using var problem = await host.Client.SendAsync(refused);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, problem.StatusCode);
        Assert.Equal("https://flowers.example.com", problem.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("X-Request-Id", problem.Headers.GetValues("Access-Control-Expose-Headers").Single());
    }

    [Fact]
    public async Task Star_allows_any_origin_and_no_setting_sends_no_cors_headers()
    {
        await using (var any = await IrisTestHost.StartAsync(Lazily(("Cors:Origins", "*"))))
        {
            using var preflight = await any.Client.SendAsync(Preflight("/v1/describe", "https://anywhere.example.org"));
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Equal("*", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
        await using var none = await IrisTestHost.StartAsync(Lazily());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz") { Headers = { { "Origin", "https://anywhere.example.org" } } };
        using var response = await none.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public void Cors_origins_and_metrics_key_are_checked_by_configuration_validation()
    {
        var errors = IrisConfiguration.Validate(new IrisOptions
        {
            Cors = new CrossOriginOptions { Origins = "https://ok.example.com,ftp://x,https://app.example.com/path" },
            Metrics = new MetricsOptions { ApiKey = "two words" },
        });
        Assert.Contains(errors, e => e.Contains("'ftp://x'"));
        Assert.Contains(errors, e => e.Contains("'https://app.example.com/path'"));
        Assert.DoesNotContain(errors, e => e.Contains("'https://ok.example.com'"));
        Assert.Contains(errors, e => e.StartsWith("Metrics:ApiKey", StringComparison.Ordinal));
        Assert.Empty(IrisConfiguration.Validate(new IrisOptions { Cors = new CrossOriginOptions { Origins = "*" } }));
    }

    [Fact]
    public void Auto_stands_for_every_tasks_default_model()
    {
        var defaults = new IrisOptions();
        Assert.Equal("auto", defaults.Models.Enabled);
        Assert.Equal(["yolox-nano", "ultraface-rfb-320", "petal-color", "ppocr-v4", "flower-captioner-tiny", "clip-tiny"], ServedModels.Of(defaults));

        var ownCaptioner = new IrisOptions { Captioning = new CaptioningOptions { Model = "hub-captioner" }, Models = new ModelsOptions { Enabled = "auto,centernet-mbv3" } };
        Assert.Contains("hub-captioner", ServedModels.Of(ownCaptioner));
        Assert.DoesNotContain("flower-captioner-tiny", ServedModels.Of(ownCaptioner));
        Assert.Equal("centernet-mbv3", ServedModels.Of(ownCaptioner)[^1]);

        Assert.Equal(["yolox-nano"], ServedModels.Of(new IrisOptions { Models = new ModelsOptions { Enabled = "yolox-nano" } }));
        Assert.Empty(ServedModels.Of(new IrisOptions { Models = new ModelsOptions { Enabled = "" } }));
    }

    [Fact]
    public async Task Readyz_is_200_only_once_every_tasks_default_model_is_loaded()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Models:Enabled"] = "auto" });
        await host.WaitUntilReadyAsync(TimeSpan.FromSeconds(180));
        var ready = await host.Client.GetFromJsonAsync<JsonElement>("/readyz");
        var checks = ready.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        foreach (var model in ServedModels.TaskDefaults(new IrisOptions()))
        {
            Assert.Contains($"model:{model}", checks);
            // Loaded, not merely installed: the first caption does not pay for loading the captioner.
            Assert.Equal("ready", (await host.Client.GetFromJsonAsync<JsonElement>($"/v1/models/{model}")).GetProperty("state").GetString());
        }
    }

    [Fact]
    public async Task A_model_the_mirror_lacks_keeps_readyz_503_and_is_named_in_its_body()
    {
        using var mirror = new TempDirectory();
        var yolox = Directory.CreateDirectory(Path.Combine(mirror.Path, "yolox-nano"));
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.ModelMirror, "yolox-nano")))
            File.Copy(file, Path.Combine(yolox.FullName, Path.GetFileName(file)));
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Models:Enabled"] = "auto", ["Models:Mirror"] = mirror.Path, ["Models:DownloadAttempts"] = "1", ["Models:DownloadTimeoutSeconds"] = "5",
        });

        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonElement health;
        do
        {
            using (var response = await host.Client.GetAsync("/health")) // 503 until ready, with the same body
                health = await response.Content.ReadFromJsonAsync<JsonElement>();
            var captioner = health.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "flower-captioner-tiny");
            var detector = health.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "yolox-nano");
            if (captioner.GetProperty("state").GetString() == "failed" && detector.GetProperty("state").GetString() == "ready") break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);

        using var ready = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var checks = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => (Status: c.GetProperty("status").GetString(), Detail: c.GetProperty("detail").ToString()));
        Assert.Equal("healthy", checks["model:yolox-nano"].Status);
        Assert.Equal("unhealthy", checks["model:flower-captioner-tiny"].Status);
        Assert.Contains("not in the mirror", checks["model:flower-captioner-tiny"].Detail);
        // The server itself is up and serves what it has.
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/healthz")).StatusCode);
    }
}
