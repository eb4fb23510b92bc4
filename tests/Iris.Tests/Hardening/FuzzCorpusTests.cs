using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Iris.Tests.Support;
using Xunit.Abstractions;

namespace Iris.Tests.Hardening;

/// <summary>A real server with every model enabled, for the corpus run over every image route.</summary>
public sealed class HardenedHost : IAsyncLifetime
{
    private readonly TempDirectory _data = new();

    public const int DecodeTimeoutMs = 5000;
    public const int TransformBudgetMs = 5000;

    public IrisTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = TransformHost.Settings(_data.Path);
        settings["Models:Enabled"] = "yolox-nano,ultraface-rfb-320,petal-color,ppocr-v4,flower-captioner-tiny,clip-tiny,faceres,nsfw-mobilenet-v2,centernet-mbv3";
        settings["Models:LoadOnStartup"] = "true";
        settings["Images:DecodeTimeoutMs"] = DecodeTimeoutMs.ToString();
        settings["Transforms:TimeBudgetMs"] = TransformBudgetMs.ToString();
        Host = await IrisTestHost.StartAsync(settings);
        Host.Client.Timeout = TimeSpan.FromMinutes(2);
        await Host.WaitUntilReadyAsync(TimeSpan.FromMinutes(3));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>
/// The fuzz harness: every crafted file of the corpus, and fixed-seed mutants of the shared photos, sent to every image
/// route of a real server. Fails on any 5xx, on any answer past the route's time budget, and (the server runs in the
/// test process) on any crash, which would end the run.
/// </summary>
[Collection(HardeningServers.Name)]
public sealed class FuzzCorpusTests(HardenedHost fixture, ITestOutputHelper output) : IClassFixture<HardenedHost>
{
    /// <summary>Decode (or transform) budget plus the slowest model's run on a decodable image, on a busy 2-core machine.</summary>
    private static readonly TimeSpan RouteBudget = TimeSpan.FromMilliseconds(HardenedHost.DecodeTimeoutMs) + TimeSpan.FromSeconds(10);

    private static readonly string[] AllRoutes =
    [
        "/v1/detect", "/v1/faces", "/v1/classify", "/v1/ocr", "/v1/describe", "/v1/embed", "/v1/info", "/v1/analyze",
        "/v1/analyze?tasks=detect,faces,classify,ocr,info", "/v1/transform?ops=resize:w=64", "/v1/transform?ops=flip;format:png",
        "/v1/vision/detection", "/v1/vision/face", "/api/v1/upload", "/api/v1/resize?width=40",
    ];

    /// <summary>The mutation pass uses the routes whose work differs by decode path; the heavy caption/OCR models add time, not coverage.</summary>
    private static readonly string[] MutationRoutes = ["/v1/info", "/v1/detect", "/v1/classify", "/v1/transform?ops=resize:w=64", "/v1/vision/face"];

    [Fact]
    public async Task The_crafted_corpus_gets_no_5xx_and_no_slow_answer_on_any_image_route()
    {
        var report = await RunAsync(HostileImages.Corpus(), AllRoutes);
        Assert.True(report.Failures.IsEmpty, string.Join("\n", report.Failures));
    }

    /// <summary>The facades' and the library's image routes, with the multipart field each one's clients send.</summary>
    private static readonly string[] FacadeAndLibraryRoutes =
    [
        "/api/v1/describe/file", "file:/api/v1/detect-objects", "file:/api/v1/detect-faces", "file:/api/v1/ocr", "file:/api/v1/image-info",
        "file:/api/v1/inference/predict?user_uid=6f1c2b9e-2f44-4c55-9d0e-1a2b3c4d5e6f", "files:/v1/images", "/v1/search",
    ];

    /// <summary>The routes of face recognition, content safety and the second detector architecture.</summary>
    private static readonly string[] RealModelRoutes =
    [
        "/v1/moderate", "/v1/detect?model=centernet-mbv3", "/v1/faces/embed", "/v1/faces/recognize", "/v1/vision/face/recognize",
        "/v1/analyze?tasks=moderate,detect",
    ];

    [Fact]
    public async Task The_crafted_corpus_gets_no_5xx_and_no_slow_answer_on_the_face_recognition_moderation_and_centernet_routes()
    {
        var report = await RunAsync(HostileImages.Corpus(), RealModelRoutes);
        Assert.True(report.Failures.IsEmpty, string.Join("\n", report.Failures));
    }

    [Fact]
    public async Task The_crafted_corpus_gets_no_5xx_and_no_slow_answer_on_the_facade_and_library_routes()
    {
        var report = await RunAsync(HostileImages.Corpus(), FacadeAndLibraryRoutes);
        Assert.True(report.Failures.IsEmpty, string.Join("\n", report.Failures));
    }

    [Fact]
    public async Task Byte_flipped_shared_photos_get_no_5xx_and_no_slow_answer()
    {
        var photos = Directory.GetFiles(TestPaths.RealImages, "*.jpg").Order(StringComparer.Ordinal).Take(3).ToList();
        var corpus = photos.SelectMany((path, i) => HostileImages.Mutations(Path.GetFileName(path), File.ReadAllBytes(path), 8, seed: 15 + i)).ToList();
        var report = await RunAsync(corpus, MutationRoutes);
        Assert.True(report.Failures.IsEmpty, string.Join("\n", report.Failures));
    }

    private sealed record Report(ConcurrentBag<string> Failures);

    private async Task<Report> RunAsync(IReadOnlyList<(string Name, byte[] Bytes)> corpus, string[] routes)
    {
        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var slowest = (Ms: 0.0, What: "");
        var gate = new object();
        var work = corpus.SelectMany(file => routes.Select(route => (file.Name, file.Bytes, route))).ToList();
        var clock = Stopwatch.StartNew();
        // Two at a time: enough to overlap a slow model with a fast refusal, not so many that timing means nothing.
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (item, ct) =>
        {
            // "field:route" names the multipart field a route's clients use; the default is "image".
            var field = item.route.StartsWith('/') ? "image" : item.route[..item.route.IndexOf(':')];
            var route = item.route.StartsWith('/') ? item.route : item.route[(item.route.IndexOf(':') + 1)..];
            using var content = new MultipartFormDataContent();
            var part = new ByteArrayContent(item.Bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, field, "upload.bin");
            var started = Stopwatch.StartNew();
            try
            {
                using var response = await fixture.Host.Client.PostAsync(route, content, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                var elapsed = started.Elapsed;
                statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                lock (gate)
                    if (elapsed.TotalMilliseconds > slowest.Ms) slowest = (elapsed.TotalMilliseconds, $"{item.Name} → {item.route} ({(int)response.StatusCode})");
                if ((int)response.StatusCode >= 500)
                    failures.Add($"{item.Name} → {item.route}: {(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}");
                if (elapsed > RouteBudget)
                    failures.Add($"{item.Name} → {item.route}: answered after {elapsed.TotalMilliseconds:N0} ms (budget {RouteBudget.TotalMilliseconds:N0})");
                if ((int)response.StatusCode >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"{item.Name} → {item.route}: {(int)response.StatusCode} without problem+json");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures.Add($"{item.Name} → {item.route}: no answer ({e.GetType().Name}: {e.Message})");
            }
        });
        output.WriteLine($"{work.Count} requests ({corpus.Count} files × {routes.Length} routes) in {clock.Elapsed.TotalSeconds:N1} s; " +
                         $"statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}; " +
                         $"5xx {statuses.Where(s => s.Key >= 500).Sum(s => s.Value)}; slowest {slowest.Ms:N0} ms: {slowest.What}");
        var health = await fixture.Host.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        return new Report(failures);
    }
}
