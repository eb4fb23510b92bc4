using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NetVips;

// Thumbnails per second, 4000×3000 JPEG → 800 px wide JPEG q80, measured in one run for:
//   - Iris: POST /v1/transform?ops=resize:w=800;format:jpeg,q=80 against a separate `iris serve` process, at concurrency 2 and 4;
//   - vipsthumbnail: the same files in one process (--size 800x, Q=80, strip);
//   - ImageMagick: /usr/bin/convert -resize 800x -quality 80 -strip, one process per file, 1 and 2 at a time.
// Peak memory is the server's VmHWM (peak resident set) over the whole load, and /usr/bin/time's maximum RSS for the tools.
// Usage: dotnet run -c Release --project bench/Iris.Bench.Transforms [-- --files 8 --requests 48]
//        (build src/Iris in Release first: dotnet build src/Iris -c Release)

var files = Arg("--files", 8);
var requests = Arg("--requests", 48);
var root = FindRepositoryRoot();
var work = Path.Combine(Path.GetTempPath(), "iris-bench-transforms");
Directory.CreateDirectory(work);
var inputs = MakeInputs(root, work, files);
Console.WriteLine($"# {files} sources of 4000×3000 JPEG q90 ({inputs.Average(f => new FileInfo(f).Length) / 1e6:F1} MB average), {requests} thumbnails per Iris run");
Console.WriteLine($"# machine: {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at start");

var rows = new List<(string Name, double PerSecond, double P50, double P95, double PeakMb)>();
var irisDll = Path.Combine(root, "src/Iris/bin/Release/net10.0/iris.dll");
if (!File.Exists(irisDll)) throw new FileNotFoundException("Build the server first: dotnet build src/Iris -c Release", irisDll);

var port = FreePort();
using (var server = StartServer(irisDll, port, work))
{
    using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
    await WaitForHealthAsync(client);
    var bodies = inputs.Select(File.ReadAllBytes).ToArray();
    await RunIrisAsync(client, bodies, bodies.Length, 2); // warm-up: JIT, libvips start-up, thread pool
    foreach (var concurrency in new[] { 2, 4 })
    {
        var (perSecond, p50, p95) = await RunIrisAsync(client, bodies, requests, concurrency);
        rows.Add(($"Iris POST /v1/transform, concurrency {concurrency}", perSecond, p50, p95, PeakRssMb(server.Id)));
    }
    server.Kill(entireProcessTree: true);
}

var thumbs = Path.Combine(work, "vipsthumbnail-out");
Directory.CreateDirectory(thumbs);
var repeated = Enumerable.Repeat(inputs, Math.Max(1, requests / files)).SelectMany(x => x).ToList();
var (vipsSeconds, vipsPeak) = Timed("vipsthumbnail", [.. repeated, "--size", "800x", "-o", Path.Combine(thumbs, "%s.jpg[Q=80,strip]")]);
rows.Add(("vipsthumbnail, one process", repeated.Count / vipsSeconds, 0, 0, vipsPeak));

foreach (var parallel in new[] { 1, 2 })
{
    var clock = Stopwatch.StartNew();
    double peak = 0;
    await Parallel.ForEachAsync(inputs, new ParallelOptions { MaxDegreeOfParallelism = parallel }, (input, _) =>
    {
        var (_, rss) = Timed("/usr/bin/convert", [input, "-resize", "800x", "-quality", "80", "-strip", Path.Combine(work, $"im-{Path.GetFileNameWithoutExtension(input)}.jpg")]);
        lock (rows) peak = Math.Max(peak, rss);
        return ValueTask.CompletedTask;
    });
    rows.Add(($"ImageMagick convert, {parallel} at a time", inputs.Count / clock.Elapsed.TotalSeconds, 0, 0, peak));
}

var vips = rows.Single(r => r.Name.StartsWith("vipsthumbnail")).PerSecond;
var magick = rows.Single(r => r.Name.StartsWith("ImageMagick convert, 1")).PerSecond;
Console.WriteLine();
Console.WriteLine("| run | thumbnails/s | × vipsthumbnail | × convert (1 at a time) | p50 ms | p95 ms | peak RSS MB |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
foreach (var r in rows)
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {r.Name} | {r.PerSecond:F2} | {r.PerSecond / vips:F2} | {r.PerSecond / magick:F2} | {(r.P50 > 0 ? r.P50.ToString("F0", CultureInfo.InvariantCulture) : "")} | {(r.P95 > 0 ? r.P95.ToString("F0", CultureInfo.InvariantCulture) : "")} | {r.PeakMb:F0} |"));
Console.WriteLine($"# load average at end {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
return 0;

static async Task<(double PerSecond, double P50, double P95)> RunIrisAsync(HttpClient client, byte[][] bodies, int count, int concurrency)
{
    var latencies = new List<double>();
    var next = -1;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            var started = Stopwatch.GetTimestamp();
            using var content = new ByteArrayContent(bodies[i % bodies.Length]);
            content.Headers.ContentType = new("image/jpeg");
            using var response = await client.PostAsync("/v1/transform?ops=resize:w=800;format:jpeg,q=80", content);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode || bytes.Length < 1000)
                throw new InvalidOperationException($"Iris answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes)}");
            lock (latencies) latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }));
    var seconds = clock.Elapsed.TotalSeconds;
    latencies.Sort();
    return (count / seconds, latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.95)]);
}

static (double Seconds, double PeakMb) Timed(string tool, string[] arguments)
{
    var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardError = true, RedirectStandardOutput = true };
    start.ArgumentList.Add("-f");
    start.ArgumentList.Add("TIME %e %M");
    start.ArgumentList.Add(tool);
    foreach (var a in arguments) start.ArgumentList.Add(a);
    var clock = Stopwatch.StartNew();
    using var process = Process.Start(start)!;
    var stderr = process.StandardError.ReadToEnd();
    process.WaitForExit();
    var seconds = clock.Elapsed.TotalSeconds;
    if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} failed: {stderr}");
    var line = stderr.Split('\n').Last(l => l.StartsWith("TIME ", StringComparison.Ordinal)).Split(' ');
    return (seconds, double.Parse(line[2], CultureInfo.InvariantCulture) / 1024);
}

static Process StartServer(string irisDll, int port, string work)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = work };
    foreach (var a in new[] { irisDll, "serve", "--urls", $"http://127.0.0.1:{port}", "--set", "Models:Enabled=", "--set", "Models:LoadOnStartup=false", "--set", "Log:Level=Warning" })
        start.ArgumentList.Add(a);
    var process = Process.Start(start)!;
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("iris: " + e.Data); };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task WaitForHealthAsync(HttpClient client)
{
    for (var i = 0; i < 300; i++)
    {
        try
        {
            using var response = await client.GetAsync("/healthz");
            if (response.IsSuccessStatusCode) return;
        }
        catch (HttpRequestException) { }
        await Task.Delay(100);
    }
    throw new TimeoutException("iris serve did not answer /healthz");
}

static double PeakRssMb(int pid)
{
    var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
}

static List<string> MakeInputs(string root, string work, int count)
{
    var real = Directory.GetFiles(Path.Combine(root, "..", "shared", "testdata", "real"), "*.jpg").Order().ToArray();
    var inputs = new List<string>();
    for (var i = 0; i < count; i++)
    {
        var path = Path.Combine(work, $"source-{i}.jpg");
        inputs.Add(path);
        if (File.Exists(path)) continue;
        // Photos blown up to 12 MP, with sensor-like noise so they compress like camera output rather than smooth upscales.
        using var photo = Image.NewFromFile(real[i % real.Length], access: Enums.Access.Sequential);
        using var big = photo.Resize(4000.0 / photo.Width, vscale: 3000.0 / photo.Height);
        using var noise = Image.Gaussnoise(4000, 3000, sigma: 6);
        using var noisy = (big.ExtractBand(0, n: 3) + noise).Cast(Enums.BandFormat.Uchar);
        noisy.Jpegsave(path, q: 90);
    }
    return inputs;
}

static int FreePort()
{
    var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}

static int Arg(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Iris.slnx"))) return dir.FullName;
    throw new InvalidOperationException("Run from inside the repository.");
}
