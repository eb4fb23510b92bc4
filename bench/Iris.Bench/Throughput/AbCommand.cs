using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Iris.Bench.Throughput;

/// <summary>
/// <c>Iris.Bench ab</c>: two real <c>iris serve</c> processes, identical but for the options given to each, side by side
/// on this machine, with closed-loop load on one route alternated between them in short windows (A then B, then B then
/// A, …). On a shared VM whose speed drifts by tens of percent within minutes, only such interleaving compares two
/// policies fairly; each window also gives the server's own CPU time per image, which depends little on how much of the
/// machine others take. Separate processes, not two servers in this one: ONNX Runtime's thread pools and the lone-run
/// state are per process.
/// </summary>
public static class AbCommand
{
    private static readonly Option<string[]> A = new("--a")
    {
        Description = "An option of server A, e.g. --a Inference:AdaptiveSessions=false (repeatable); without any, A runs the defaults.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<string[]> B = new("--b")
    {
        Description = "An option of server B (repeatable); without any, B runs the defaults.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<string> Route = new("--route")
    {
        Description = "The route every request is posted to, with the image as its body.",
        DefaultValueFactory = _ => "/v1/detect",
    };

    private static readonly Option<int> Rounds = new("--rounds")
    {
        Description = "Windows per server and number of callers; the order alternates (A then B, B then A, …).",
        DefaultValueFactory = _ => 3,
    };

    private sealed record Window(int Round, char Side, LoadResult Result);

    public static Task<int> RunAsync(string[] args)
    {
        var command = new RootCommand(
            "Iris.Bench ab: two iris serve processes of this build, identical but for --a and --b, with closed-loop load on one " +
            "route alternated between them; images/s, p50 and each server's CPU ms per image (bench/throughput/ab.sh).");
        foreach (var option in new Option[] { A, B, Route, ThroughputCommand.Concurrency, Rounds, ThroughputCommand.Seconds, ThroughputCommand.WarmUpSeconds,
                     ThroughputCommand.SettleSeconds, ThroughputCommand.Image, ThroughputCommand.Mirror, ThroughputCommand.Out })
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (a, b) = (parse.GetValue(A) ?? [], parse.GetValue(B) ?? []);
            if (a.Length == 0 && b.Length == 0)
            {
                Console.Error.WriteLine("Give at least one --a or --b option, or the two servers are the same.");
                return 2;
            }
            try
            {
                return await CompareAsync(parse, a, b, cancellationToken);
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command.Parse(args).InvokeAsync();
    }

    private static async Task<int> CompareAsync(ParseResult parse, string[] a, string[] b, CancellationToken cancellationToken)
    {
        var route = parse.GetValue(Route)!;
        var callers = parse.GetValue(ThroughputCommand.Concurrency)!;
        var rounds = Math.Max(1, parse.GetValue(Rounds));
        var duration = ThroughputCommand.PositiveSeconds(parse.GetValue(ThroughputCommand.Seconds), "--seconds");
        var warmUp = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(ThroughputCommand.WarmUpSeconds)));
        var settle = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(ThroughputCommand.SettleSeconds)));
        var bytes = await File.ReadAllBytesAsync(parse.GetValue(ThroughputCommand.Image)?.FullName ?? SharedFolder.TestImage(), cancellationToken);
        var mirror = parse.GetValue(ThroughputCommand.Mirror)?.FullName ?? SharedFolder.ModelsMirror;
        var work = Directory.CreateTempSubdirectory("iris-bench-ab-");
        var windows = new List<Window>();
        try
        {
            var cache = Path.Combine(work.FullName, "models");
            // One after the other, so that the second finds the models the first pulled into the cache.
            using var serverA = await IrisProcess.StartAsync(Path.Combine(work.FullName, "a"), mirror, cache, a);
            using var serverB = await IrisProcess.StartAsync(Path.Combine(work.FullName, "b"), mirror, cache, b);
            using var clientA = new ImageEndpointClient(serverA.BaseAddress, route, bytes, callers.Max());
            using var clientB = new ImageEndpointClient(serverB.BaseAddress, route, bytes, callers.Max());
            Console.Error.WriteLine($"A: {serverA.BaseAddress} (pid {serverA.Process.Id}) {Describe(a)}; B: {serverB.BaseAddress} (pid {serverB.Process.Id}) {Describe(b)}");
            // Thrown away: the JIT settles in both servers before anything is measured.
            await ClosedLoop.SettleAsync(callers.Max(), settle, clientA.PostOnceAsync, cancellationToken);
            await ClosedLoop.SettleAsync(callers.Max(), settle, clientB.PostOnceAsync, cancellationToken);

            foreach (var n in callers)
                for (var round = 1; round <= rounds; round++)
                    foreach (var side in round % 2 == 1 ? "AB" : "BA")
                    {
                        var (server, client) = side == 'A' ? (serverA, clientA) : (serverB, clientB);
                        var result = await ClosedLoop.RunAsync($"{side}", n, warmUp, duration, client.PostOnceAsync, cancellationToken, server.Process);
                        windows.Add(new Window(round, side, result));
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{n} caller(s), round {round}, {side}: {result.ImagesPerSecond:F1} images/s, p50 {result.LatencyPercentileMs(50):F1} ms, " +
                            $"server {result.ServerCpuMsPerImage:F1} CPU ms per image"));
                    }
        }
        finally
        {
            work.Delete(recursive: true);
        }

        var markdown = Report(route, a, b, callers, windows);
        Console.WriteLine(markdown);
        if (parse.GetValue(ThroughputCommand.Out) is { } file)
            await File.WriteAllTextAsync(file.FullName, markdown, cancellationToken);
        return 0;
    }

    private static string Describe(IReadOnlyList<string> options) => options.Count == 0 ? "defaults" : string.Join(" ", options.Select(o => "--set " + o));

    private static string Report(string route, IReadOnlyList<string> a, IReadOnlyList<string> b, int[] callers, IReadOnlyList<Window> windows)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## A/B: `POST {route}`, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- A: {Describe(a)}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- B: {Describe(b)}");
        md.AppendLine();
        md.AppendLine("| Callers | Round | A images/s | B images/s | A p50 ms | B p50 ms | A server CPU ms/image | B server CPU ms/image |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var n in callers)
        {
            var rows = windows.Where(w => w.Result.Callers == n).GroupBy(w => w.Round).OrderBy(g => g.Key).ToList();
            foreach (var round in rows)
            {
                var (ra, rb) = (round.Single(w => w.Side == 'A').Result, round.Single(w => w.Side == 'B').Result);
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {n} | {round.Key} | {ra.ImagesPerSecond:F1} | {rb.ImagesPerSecond:F1} | {ra.LatencyPercentileMs(50):F1} | {rb.LatencyPercentileMs(50):F1} " +
                    $"| {ra.ServerCpuMsPerImage:F1} | {rb.ServerCpuMsPerImage:F1} |");
            }
            double Mean(char side, Func<LoadResult, double> value) => windows.Where(w => w.Result.Callers == n && w.Side == side).Average(w => value(w.Result));
            var (ia, ib) = (Mean('A', r => r.ImagesPerSecond), Mean('B', r => r.ImagesPerSecond));
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| **{n}** | **mean** | **{ia:F1}** | **{ib:F1}** ({ib / ia - 1:+0%;-0%}) | **{Mean('A', r => r.LatencyPercentileMs(50)):F1}** | **{Mean('B', r => r.LatencyPercentileMs(50)):F1}** " +
                $"| **{Mean('A', r => r.ServerCpuMsPerImage ?? double.NaN):F1}** | **{Mean('B', r => r.ServerCpuMsPerImage ?? double.NaN):F1}** |");
        }
        return md.ToString();
    }

    /// <summary>An <c>iris serve</c> child process on a free loopback port, in a working directory of its own (its data/).</summary>
    private sealed class IrisProcess : IDisposable
    {
        private IrisProcess(Process process, Uri baseAddress) => (Process, BaseAddress) = (process, baseAddress);

        public Process Process { get; }
        public Uri BaseAddress { get; }

        public static async Task<IrisProcess> StartAsync(string directory, string mirror, string cache, IEnumerable<string> options)
        {
            Directory.CreateDirectory(directory);
            var port = FreePort();
            // The iris.dll of this build sits beside the benchmark (a project reference).
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "iris.dll"), "serve", "--urls", $"http://127.0.0.1:{port}",
                         "--mirror", mirror, "--model-cache", cache, "--set", "Log:Level=Warning" })
                start.ArgumentList.Add(argument);
            foreach (var option in options)
            {
                start.ArgumentList.Add("--set");
                start.ArgumentList.Add(option);
            }
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            // Drained, so a chatty server never blocks on a full pipe.
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine($"[{port}] {line}"); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new IrisProcess(process, new Uri($"http://127.0.0.1:{port}"));
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromMinutes(3))
            {
                if (process.HasExited) throw new InvalidOperationException($"iris serve exited with {process.ExitCode} before it was ready");
                try
                {
                    if ((await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK) return server;
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(250);
            }
            server.Dispose();
            throw new TimeoutException("iris serve was not ready within 3 minutes");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.WaitForExit(10_000);
            Process.Dispose();
        }
    }
}
