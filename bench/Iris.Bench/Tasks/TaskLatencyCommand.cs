using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Iris.Bench.Throughput;

namespace Iris.Bench.Tasks;

/// <summary>
/// <c>Iris.Bench tasks</c>: for every understanding route, the time ONNX Runtime spends (the model stages the server reports in
/// <c>timings_ms</c>, measured around <c>session.Run</c>) against the end-to-end latency a client sees over loopback HTTP, one
/// caller, in the same run. What is left is decoding, pre/post-processing, HTTP and JSON.
/// </summary>
public static class TaskLatencyCommand
{
    private sealed record Case(string Task, string Route, string Image, string ContentType, string[] ModelStages);

    private static Case[] Cases()
    {
        var flowers = Path.Combine(SharedFolder.Locate(), "testdata", "flowers");
        return
        [
            new("detect", "/v1/detect", SharedFolder.TestImage("dog.jpg"), "image/jpeg", ["inference"]),
            new("faces", "/v1/faces", SharedFolder.TestImage("faces-19.jpg"), "image/jpeg", ["inference"]),
            new("classify", "/v1/classify", Path.Combine(flowers, "flower-00.png"), "image/png", ["inference"]),
            new("ocr", "/v1/ocr", SharedFolder.TestImage("ocr-paragraph.jpg"), "image/jpeg", ["detect", "classify", "recognize"]),
            new("describe", "/v1/describe", Path.Combine(flowers, "flower-00.png"), "image/png", ["encoder", "decoder"]),
            new("embed", "/v1/embed", Path.Combine(flowers, "flower-00.png"), "image/png", ["embed"]),
        ];
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var requests = args.Length > 0 && int.TryParse(args[0], out var n) && n > 0 ? n : 40;
        await using var server = await InProcessIrisServer.StartWithFreshCacheAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        var report = new StringBuilder()
            .AppendLine($"## Per task: ONNX Runtime time vs end-to-end HTTP, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC")
            .AppendLine()
            .AppendLine($"One caller, {requests} requests per task after 5 warm-up requests; medians. *ONNX Runtime* = the model stages of `timings_ms`.")
            .AppendLine()
            .AppendLine("| Task | Image | ONNX Runtime ms | Server total ms | HTTP end-to-end ms | ONNX Runtime share | HTTP / ONNX Runtime |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var c in Cases())
        {
            var bytes = await File.ReadAllBytesAsync(c.Image);
            var model = new List<double>();
            var serverTotal = new List<double>();
            var endToEnd = new List<double>();
            for (var i = 0; i < requests + 5; i++)
            {
                using var content = new ByteArrayContent(bytes);
                content.Headers.ContentType = new MediaTypeHeaderValue(c.ContentType);
                var clock = Stopwatch.StartNew();
                using var response = await http.PostAsync(c.Route, content);
                var body = await response.Content.ReadAsStringAsync();
                var elapsed = clock.Elapsed.TotalMilliseconds;
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"{c.Route} answered {(int)response.StatusCode}: {body}");
                if (i < 5) continue;
                using var document = JsonDocument.Parse(body);
                var timings = document.RootElement.GetProperty("timings_ms");
                model.Add(c.ModelStages.Sum(s => timings.GetProperty(s).GetDouble()));
                serverTotal.Add(timings.GetProperty("total").GetDouble());
                endToEnd.Add(elapsed);
            }
            double m = Median(model), s = Median(serverTotal), e = Median(endToEnd);
            report.AppendLine($"| {c.Task} | {Path.GetFileName(c.Image)} | {m:F1} | {s:F1} | {e:F1} | {m / e:P0} | {e / m:F2}× |");
            Console.Error.WriteLine($"{c.Task}: onnx {m:F1} ms, http {e:F1} ms");
        }
        Console.WriteLine(report);
        return 0;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count == 0 ? double.NaN : values[values.Count / 2];
    }
}
