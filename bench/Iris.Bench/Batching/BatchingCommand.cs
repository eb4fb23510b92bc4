using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Iris.Bench.Throughput;
using Iris.Configuration;

namespace Iris.Bench.Batching;

/// <summary>
/// Dynamic batching on and off (issue #13): two real servers in this process, identical but for
/// <c>Inference:Batching:Enabled</c>, under closed-loop HTTP load on <c>POST /v1/detect</c> (YOLOX-Nano) and
/// <c>POST /v1/embed</c> (the CLIP image tower) at each number of callers. Off and on are measured back to back for each
/// route and caller count, in alternating order, so a change in the machine's load hits both alike. The mean batch size comes from the
/// server's own <c>iris_model_batch_size</c> histogram over the window.
/// </summary>
public static class BatchingCommand
{
    private const string Usage = "usage: batching [--seconds 5] [--warmup 2] [--concurrency 1,4,16] [--image PATH] [--mirror DIR] [--out FILE.md]";

    private sealed record Row(string Route, string Model, int Callers, LoadResult Off, LoadResult On, double OffBatch, double OnBatch);

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = 5.0;
        var warmup = 2.0;
        int[] concurrency = [1, 4, 16];
        string? image = null, mirror = null, output = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value. {Usage}");
            switch (args[i])
            {
                case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = Next().Split(',').Select(int.Parse).ToArray(); break;
                case "--image": image = Next(); break;
                case "--mirror": mirror = Next(); break;
                case "--out": output = Next(); break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }
        image ??= Path.Combine(SharedFolder.Locate(), "testdata", "real", SharedFolder.DefaultImageName);
        mirror ??= SharedFolder.ModelsMirror;
        var bytes = await File.ReadAllBytesAsync(image);
        var (duration, warmUp) = (TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(warmup));

        var cache = Directory.CreateTempSubdirectory("iris-bench-batching-");
        var rows = new List<Row>();
        try
        {
            await using var off = await StartAsync(mirror, cache.FullName, batching: false);
            await using var on = await StartAsync(mirror, cache.FullName, batching: true);
            using var offClient = Client(off.BaseAddress, concurrency.Max());
            using var onClient = Client(on.BaseAddress, concurrency.Max());
            foreach (var (route, model) in new[] { ("/v1/detect", "yolox-nano"), ("/v1/embed", "clip-tiny") })
                foreach (var callers in concurrency)
                {
                    // The order alternates row by row, so that a trend in the machine's load favours neither.
                    var onFirst = rows.Count % 2 == 1;
                    var first = await MeasureAsync(onFirst ? onClient : offClient, route, model, callers, bytes, warmUp, duration, onFirst ? "on" : "off");
                    var second = await MeasureAsync(onFirst ? offClient : onClient, route, model, callers, bytes, warmUp, duration, onFirst ? "off" : "on");
                    var ((offResult, offBatch), (onResult, onBatch)) = onFirst ? (second, first) : (first, second);
                    rows.Add(new Row(route, model, callers, offResult, onResult, offBatch, onBatch));
                }
        }
        finally
        {
            cache.Delete(recursive: true);
        }

        var report = Report(rows, image, args);
        Console.WriteLine(report);
        if (output is not null) await File.WriteAllTextAsync(output, report);
        return 0;
    }

    private static async Task<InProcessIrisServer> StartAsync(string mirror, string cache, bool batching)
    {
        var overrides = ThroughputCommand.Overrides(mirror, cache);
        overrides["Models:Enabled"] = "yolox-nano,clip-tiny";
        overrides["Inference:Batching:Enabled"] = batching ? "true" : "false";
        var configuration = IrisConfiguration.Build(null, overrides);
        return await InProcessIrisServer.StartAsync(IrisConfiguration.Load(configuration), configuration, CancellationToken.None);
    }

    private static HttpClient Client(Uri address, int callers) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = callers,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        UseCookies = false,
        UseProxy = false,
    })
    { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };

    private static async Task<(LoadResult Result, double MeanBatch)> MeasureAsync(HttpClient client, string route, string model, int callers, byte[] image,
        TimeSpan warmUp, TimeSpan duration, string batching)
    {
        var jpeg = new MediaTypeHeaderValue("image/jpeg");
        async ValueTask<StageTimings?> PostAsync(CancellationToken cancellationToken)
        {
            using var content = new ByteArrayContent(image);
            content.Headers.ContentType = jpeg;
            using var response = await client.PostAsync(route, content, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new HttpRequestException($"POST {route} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            return null;
        }
        // The batch histogram counts the warm-up too; read it around the whole measurement and subtract.
        var before = await BatchHistogramAsync(client, model);
        var result = await ClosedLoop.RunAsync($"POST {route}, batching {batching}", callers, warmUp, duration, PostAsync, CancellationToken.None);
        var after = await BatchHistogramAsync(client, model);
        var count = after.Count - before.Count;
        Console.Error.WriteLine($"{route} batching {batching} {callers} callers: {result.ImagesPerSecond:F1}/s p99 {result.LatencyPercentileMs(99):F1} ms");
        return (result, count > 0 ? (after.Sum - before.Sum) / count : double.NaN);
    }

    private static async Task<(double Sum, double Count)> BatchHistogramAsync(HttpClient client, string model)
    {
        var text = await client.GetStringAsync("/metrics");
        double Value(string series) => text.Split('\n')
            .Where(l => l.StartsWith(series + "{", StringComparison.Ordinal) && l.Contains($"model=\"{model}\"", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).Sum();
        return (Value("iris_model_batch_size_sum"), Value("iris_model_batch_size_count"));
    }

    private static string Report(List<Row> rows, string image, string[] args)
    {
        var md = new StringBuilder();
        md.AppendLine($"Command: `bench/batching/run.sh {string.Join(' ', args)}`, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, image {Path.GetFileName(image)}.");
        md.AppendLine();
        md.AppendLine("| Route (model) | Callers | Off images/s | On images/s | On ÷ off | Off p50 ms | On p50 ms | Off p99 ms | On p99 ms | Mean batch (on) | Other CPU % (off / on) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| `{r.Route}` ({r.Model}) | {r.Callers} | {r.Off.ImagesPerSecond:F1} | {r.On.ImagesPerSecond:F1} | {r.On.ImagesPerSecond / r.Off.ImagesPerSecond:F2} | " +
                $"{r.Off.LatencyPercentileMs(50):F1} | {r.On.LatencyPercentileMs(50):F1} | {r.Off.LatencyPercentileMs(99):F1} | {r.On.LatencyPercentileMs(99):F1} | " +
                $"{r.OnBatch:F2} | {r.Off.OtherProcessesCpuPercent:F0} / {r.On.OtherProcessesCpuPercent:F0} |"));
        return md.ToString();
    }
}
