using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime;
using System.Text;
using Iris.Bench.Throughput;

namespace Iris.Bench.Allocations;

/// <summary>
/// <c>Iris.Bench allocations [REQUESTS] [ROUNDS]</c>: managed bytes allocated per request by <c>POST /v1/detect</c> and
/// <c>POST /v1/analyze</c> on the real server in this process, one caller. The server allocates on many thread-pool
/// threads, so the count is the process-wide <see cref="GC.GetTotalAllocatedBytes"/> (precise) over a round of requests,
/// divided by their number, after a warm-up. The median of several rounds is reported with their range: tensors come from
/// <c>ArrayPool.Shared</c>, whose per-thread and per-core caches miss when a buffer is returned on another thread than the
/// one that rents the next, and trim themselves on gen-2 collections, so a round can allocate a tensor where another reuses it. The loopback client runs in the same process and is counted too; it is the same code
/// and the same bytes before and after a server change, so differences between runs are the server's. Allocations that
/// happen meanwhile without a request (timers, hosted services) are measured on their own over an idle window and shown.
/// Run it with <c>DOTNET_GCDynamicAdaptationMode=0</c> (as <c>bench/refactor-metrics.sh</c> does): under server GC's
/// dynamic heap count (DATAS) the counter sums only the heaps active at the moment, so it can fall when a heap is retired
/// (dotnet/runtime#131069); a round then reads too little, or below zero.
/// </summary>
public static class AllocationCommand
{
    private const int WarmUpRequests = 20;
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(2);

    private sealed record Case(string Route, string Image, string ContentType);

    // analyze names its tasks, so the case stays the same if Analyze:DefaultTasks changes; these are today's defaults.
    private static Case[] Cases() =>
    [
        new("/v1/detect", SharedFolder.TestImage("dog.jpg"), "image/jpeg"),
        new("/v1/analyze?tasks=detect,faces,info", SharedFolder.TestImage("dog.jpg"), "image/jpeg"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var requests = args.Length > 0 && int.TryParse(args[0], out var n) && n > 0 ? n : 40;
        var rounds = args.Length > 1 && int.TryParse(args[1], out var r) && r > 0 ? r : 5;
        await using var server = await InProcessIrisServer.StartWithFreshCacheAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

        var countsOnlyActiveHeaps = GCSettings.IsServerGC && Environment.GetEnvironmentVariable("DOTNET_GCDynamicAdaptationMode") != "0";
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"## Managed allocations per request, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"One caller; per route {WarmUpRequests} warm-up requests, then {rounds} rounds of {requests} requests; process-wide `GC.GetTotalAllocatedBytes(precise: true)` per round ÷ {requests}, loopback client included. Median of the rounds [fewest–most].")
            .AppendLine()
            .AppendLine("| Route | Image | KB allocated per request | [fewest–most] | Gen0 / Gen1 / Gen2 GCs per 100 requests | ms per request |")
            .AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var c in Cases())
        {
            var bytes = await File.ReadAllBytesAsync(c.Image);
            for (var i = 0; i < WarmUpRequests; i++)
                await PostAsync(http, c, bytes);

            var gcs = CollectionCounts();
            var clock = Stopwatch.StartNew();
            var perRequest = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                for (var i = 0; i < requests; i++)
                    await PostAsync(http, c, bytes);
                perRequest.Add((GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)requests / 1024);
            }
            var total = rounds * requests;
            var elapsed = clock.Elapsed;
            var collections = CollectionCounts().Zip(gcs, (after, before) => 100.0 * (after - before) / total).ToArray();
            perRequest.Sort();
            var median = perRequest[perRequest.Count / 2];

            report.AppendLine(CultureInfo.InvariantCulture,
                $"| POST {c.Route} | {Path.GetFileName(c.Image)} | {median:N1} | {perRequest[0]:N1}–{perRequest[^1]:N1} | {collections[0]:F0} / {collections[1]:F0} / {collections[2]:F0} | {elapsed.TotalMilliseconds / total:F1} |");
            Console.Error.WriteLine($"POST {c.Route}: {median:N1} KB per request ({string.Join(", ", perRequest.Select(k => k.ToString("N1", CultureInfo.InvariantCulture)))})");
        }

        var idleBefore = GC.GetTotalAllocatedBytes(precise: true);
        await Task.Delay(IdleWindow);
        var idlePerSecond = (GC.GetTotalAllocatedBytes(precise: true) - idleBefore) / IdleWindow.TotalSeconds;
        report.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"Idle server, no request: {idlePerSecond / 1024:N1} KB allocated per second (not subtracted above).");
        if (countsOnlyActiveHeaps)
            report.AppendLine()
                .AppendLine("**Warning:** server GC with a dynamic heap count (DATAS): the allocation counter can fall when a heap is retired. " +
                            "Run again with DOTNET_GCDynamicAdaptationMode=0.");
        Console.WriteLine(report);
        return 0;
    }

    private static async Task PostAsync(HttpClient http, Case c, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(c.ContentType);
        using var response = await http.PostAsync(c.Route, content);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST {c.Route} answered {(int)response.StatusCode}: {body}");
    }

    private static int[] CollectionCounts() => [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
}
