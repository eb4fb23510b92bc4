using System.CommandLine;
using System.CommandLine.Parsing;
using Iris.Configuration;
using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Bench.Throughput;

/// <summary>
/// <c>Iris.Bench http</c>: in one process, YOLOX-Nano's raw ONNX Runtime throughput, the in-process pipeline,
/// and <c>POST /v1/detect</c> against the real server over loopback at several concurrencies.
/// </summary>
public static class ThroughputCommand
{
    internal static readonly Option<FileInfo?> Image = new("--image")
    {
        Description = $"The image every request sends. Default: shared/testdata/real/{SharedFolder.DefaultImageName}.",
    };

    internal static readonly Option<double> Seconds = new("--seconds")
    {
        Description = "Measured seconds per scenario and concurrency.",
        DefaultValueFactory = _ => 10,
    };

    internal static readonly Option<double> WarmUpSeconds = new("--warmup")
    {
        Description = "Seconds of warm-up before each measurement, thrown away.",
        DefaultValueFactory = _ => 2,
    };

    internal static readonly Option<double> SettleSeconds = new("--settle")
    {
        Description = "Seconds of load, thrown away, before the first in-process and the first HTTP measurement, so that tiered " +
                      "JIT compilation has finished: after a 3 s warm-up the JIT still took 12% of the server's CPU in the next 10 s " +
                      "(perf), after 30 s of load 0.05%.",
        DefaultValueFactory = _ => 15,
    };

    internal static readonly Option<int[]> Concurrency = new("--concurrency")
    {
        Description = "Comma-separated numbers of HTTP callers with a request in flight.",
        DefaultValueFactory = _ => [1, 2, 4, 8],
        CustomParser = ParseConcurrency,
    };

    internal static readonly Option<DirectoryInfo?> Mirror = new("--mirror")
    {
        Description = "The model mirror to pull yolox-nano from. Default: shared/models beside the repository.",
    };

    internal static readonly Option<FileInfo?> Out = new("--out")
    {
        Description = "Also write the Markdown report to this file.",
    };

    private static readonly Option<string[]> Set = new("--set")
    {
        Description = "Override an option of the server only, e.g. --set Inference:IntraOpThreads=1 (repeatable). The raw session " +
                      "and the in-process pipeline keep the base configuration (appsettings.json and IRIS__ variables), so every " +
                      "run is compared with the same baseline.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<string?> Peer = new("--peer")
    {
        Description = "Base address of a peer serving POST /v1/detect (bench/peers/yolox_fastapi.py), measured at the same concurrencies.",
    };

    private static readonly Option<int?> PeerPid = new("--peer-pid")
    {
        Description = "The peer's process id, to report its CPU time per image.",
    };

    private static readonly Option<int> AnalyzeCallers = new("--analyze-callers")
    {
        Description = $"Callers for POST /v1/analyze?tasks={string.Join(',', "detect,faces,classify,describe")}, compared with the sum of " +
                      "the single-task runs (each task alone, one caller); 0 leaves it out.",
        DefaultValueFactory = _ => 0,
    };

    /// <summary>The tasks of the <c>/v1/analyze</c> scenario.</summary>
    internal static readonly string[] AnalyzeTasks = ["detect", "faces", "classify", "describe"];

    public static Task<int> RunAsync(string[] args)
    {
        var command = new RootCommand(
            "Measures YOLOX-Nano images/s: raw ONNX Runtime, the in-process pipeline, and POST /v1/detect over loopback HTTP " +
            "(mode `http`, the default). Other modes: `tasks` (per-task ONNX Runtime time vs HTTP latency) and " +
            "`micro` (the BenchmarkDotNet suite: Iris.Bench micro [BenchmarkDotNet flags]).");
        foreach (var option in new Option[] { Image, Seconds, WarmUpSeconds, SettleSeconds, Concurrency, Mirror, Out, Set, Peer, PeerPid, AnalyzeCallers })
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await MeasureAsync(parse, string.Join(' ', ["http", .. args]), cancellationToken);
            }
            catch (Exception e) when (e is InvalidConfigurationException or ArgumentException or IOException)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
        });
        return command.Parse(args).InvokeAsync();
    }

    private static async Task<int> MeasureAsync(ParseResult parse, string arguments, CancellationToken cancellationToken)
    {
        var imagePath = parse.GetValue(Image)?.FullName ?? SharedFolder.TestImage();
        var mirror = parse.GetValue(Mirror)?.FullName ?? SharedFolder.ModelsMirror;
        var duration = PositiveSeconds(parse.GetValue(Seconds), "--seconds");
        var warmUp = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(WarmUpSeconds)));
        var settle = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(SettleSeconds)));
        var concurrency = parse.GetValue(Concurrency)!;
        var imageBytes = await File.ReadAllBytesAsync(imagePath, cancellationToken);

        // A fresh cache, so the run pulls from the mirror exactly as a new installation would.
        var cache = Directory.CreateTempSubdirectory("iris-bench-models-");
        try
        {
            var baseline = Overrides(mirror, cache.FullName);
            var options = IrisConfiguration.Load(IrisConfiguration.Build(null, baseline));
            var serverConfiguration = IrisConfiguration.Build(null, WithAssignments(baseline, parse.GetValue(Set) ?? []));
            var serverOptions = IrisConfiguration.Load(serverConfiguration);

            // The server's factory first: with auto threads it creates the process-wide pool, which ONNX Runtime allows
            // only before any session exists (the raw sessions below have pools of their own).
            _ = new OnnxSessionFactory(serverOptions.InferenceSettings());
            // The reference is raw ONNX Runtime as a user would run it: its default options, a pool of one thread per
            // core for this session alone, spinning between operators.
            var rawSettings = options.InferenceSettings() with { IntraOpThreads = options.InferenceSettings().Cpu.Cores, Spinning = true };
            var raw = await MeasureRawAsync("raw session.Run", options, rawSettings, imageBytes, warmUp, duration, cancellationToken);
            // One intra-op thread shows whether the cores were really there: with all of them the run must be faster.
            var rawOneThread = await MeasureRawAsync("raw session.Run, 1 intra-op thread", options,
                rawSettings with { IntraOpThreads = 1 }, imageBytes, warmUp, duration, cancellationToken);
            // What ONNX Runtime alone reaches with as many callers as the goal's HTTP row: the ceiling a server that
            // must also decode each image works under.
            var concurrentCallers = concurrency.Contains(4) ? 4 : concurrency.Max();
            List<LoadResult> rawConcurrent = concurrentCallers > 1
                ?
                [
                    await MeasureRawAsync("raw session.Run", options, rawSettings, imageBytes, warmUp, duration, cancellationToken, concurrentCallers),
                    await MeasureRawAsync("raw session.Run, 1 intra-op thread", options, rawSettings with { IntraOpThreads = 1 }, imageBytes, warmUp,
                        duration, cancellationToken, concurrentCallers),
                ]
                : [];
            var pipeline = await MeasurePipelineAsync(options, imageBytes, settle + warmUp, duration, cancellationToken);

            var http = new List<LoadResult>();
            var singleTasks = new List<LoadResult>();
            var analyze = new List<LoadResult>();
            var detections = new Dictionary<string, string>();
            await using (var server = await InProcessIrisServer.StartAsync(serverOptions, serverConfiguration, cancellationToken))
            {
                using (var client = ImageEndpointClient.Detect(server.BaseAddress, imageBytes, concurrency.Max()))
                {
                    detections["Iris"] = await client.GetBodyAsync(cancellationToken);
                    await ClosedLoop.SettleAsync(concurrency.Max(), settle, client.PostOnceAsync, cancellationToken);
                    foreach (var callers in concurrency)
                        http.Add(Progress(await ClosedLoop.RunAsync("HTTP POST /v1/detect", callers, warmUp, duration, client.PostOnceAsync, cancellationToken)));
                }
                if (parse.GetValue(AnalyzeCallers) is > 0 and var analyzeCallers)
                {
                    foreach (var task in AnalyzeTasks)
                    {
                        using var single = ImageEndpointClient.Analyze(server.BaseAddress, [task], imageBytes, 1);
                        singleTasks.Add(Progress(await ClosedLoop.RunAsync($"POST /v1/analyze?tasks={task}", 1, warmUp, duration, single.PostOnceAsync, cancellationToken)));
                    }
                    using var all = ImageEndpointClient.Analyze(server.BaseAddress, AnalyzeTasks, imageBytes, analyzeCallers);
                    foreach (var callers in new[] { 1, analyzeCallers }.Distinct())
                        analyze.Add(Progress(await ClosedLoop.RunAsync($"POST /v1/analyze?tasks={string.Join(',', AnalyzeTasks)}", callers, warmUp, duration, all.PostOnceAsync, cancellationToken)));
                }
            }

            var peer = new List<LoadResult>();
            if (parse.GetValue(Peer) is { } peerUrl)
            {
                if (!Uri.TryCreate(peerUrl, UriKind.Absolute, out var peerAddress))
                    throw new ArgumentException($"--peer '{peerUrl}' is not an absolute URL such as http://127.0.0.1:8090.");
                using var client = new ImageEndpointClient(peerAddress, "/v1/detect", imageBytes, concurrency.Max());
                detections["peer"] = await client.GetBodyAsync(cancellationToken);
                using var peerProcess = parse.GetValue(PeerPid) is { } pid ? System.Diagnostics.Process.GetProcessById(pid) : null;
                foreach (var callers in concurrency)
                    peer.Add(Progress(await ClosedLoop.RunAsync("peer: FastAPI + OpenCV DNN", callers, warmUp, duration, client.PostOnceAsync, cancellationToken, peerProcess)));
            }

            // The reference is measured again at the end: on a shared VM the CPU the model gets can change within a run.
            var rawAfter = await MeasureRawAsync("raw session.Run, again", options, rawSettings, imageBytes, warmUp, duration, cancellationToken);

            var report = new ThroughputReport
            {
                Date = DateTimeOffset.UtcNow,
                Arguments = arguments,
                ImagePath = imagePath,
                RawInference = rawSettings,
                InProcessInference = options.InferenceSettings(),
                ServerInference = serverOptions.InferenceSettings(),
                Raw = raw,
                RawAgain = rawAfter,
                RawOneThread = rawOneThread,
                RawConcurrent = rawConcurrent,
                Pipeline = pipeline,
                Http = http,
                Peer = peer,
                SingleTasks = singleTasks,
                Analyze = analyze,
                Detections = detections,
            };
            var markdown = report.ToMarkdown();
            Console.WriteLine();
            Console.WriteLine(markdown);
            if (parse.GetValue(Out) is { } file)
                await File.WriteAllTextAsync(file.FullName, markdown, cancellationToken);
            return 0;
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }

    /// <summary>
    /// <c>session.Run</c> alone, by <paramref name="callers"/> callers of one session made with <paramref name="settings"/>, in its own service provider
    /// so that no other session is alive meanwhile. The first call copies the model from the mirror into the fresh cache;
    /// later calls find it there.
    /// </summary>
    private static async Task<LoadResult> MeasureRawAsync(
        string scenario, IrisOptions options, InferenceSettings settings, byte[] imageBytes, TimeSpan warmUp, TimeSpan duration, CancellationToken cancellationToken,
        int callers = 1)
    {
        await using var services = new ServiceCollection().AddIrisCore(options).BuildServiceProvider();
        var manifest = services.GetRequiredService<ModelRuntime>().Catalog.Get(options.Detection.Model);
        var spec = manifest.Section<DetectorSpec>("detector");
        var store = services.GetRequiredService<ModelStore>();
        await store.PullAsync(manifest, cancellationToken: cancellationToken);
        var image = services.GetRequiredService<ImageDecoder>().Decode(imageBytes, cancellationToken);
        using var workload = new RawInferenceWorkload(new OnnxSessionFactory(settings), store.FilePath(manifest, spec.Model), spec, image);
        return Progress(await ClosedLoop.RunAsync(scenario, callers, warmUp, duration, workload.RunOnceAsync, cancellationToken));
    }

    /// <summary>Decode + <see cref="YoloxDetector.DetectAsync"/>, one caller; the session is released before the server starts.</summary>
    private static async Task<LoadResult> MeasurePipelineAsync(
        IrisOptions options, byte[] imageBytes, TimeSpan warmUp, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var services = new ServiceCollection().AddIrisCore(options).BuildServiceProvider();
        var detector = await services.GetRequiredService<ModelRuntime>().GetDetectorAsync(options.Detection.Model, cancellationToken);
        var parameters = new DetectionParameters(options.Detection.MinConfidence, options.Detection.MaxDetections);
        var pipeline = new PipelineWorkload(services.GetRequiredService<ImageDecoder>(), detector, parameters, imageBytes);
        return Progress(await ClosedLoop.RunAsync("in-process pipeline", 1, warmUp, duration, pipeline.DetectOnceAsync, cancellationToken));
    }

    internal static Dictionary<string, string?> Overrides(string mirror, string cacheDirectory) =>
        new(StringComparer.OrdinalIgnoreCase)
        {
            ["Models:Mirror"] = mirror,
            ["Models:CacheDirectory"] = cacheDirectory,
            // Port 0: the system picks a free port, read back from Kestrel once it listens.
            ["Server:Urls"] = "http://127.0.0.1:0",
            // One log line per request would cost the server time and bury the table.
            ["Log:Level"] = "Warning",
        };

    /// <summary>The same Section:Key=value syntax as <c>iris --set</c>.</summary>
    private static Dictionary<string, string?> WithAssignments(Dictionary<string, string?> overrides, IEnumerable<string> assignments)
    {
        var result = new Dictionary<string, string?>(overrides, StringComparer.OrdinalIgnoreCase);
        foreach (var assignment in assignments)
        {
            var equals = assignment.IndexOf('=');
            if (equals <= 0)
                throw new ArgumentException($"--set '{assignment}' must look like Section:Key=value.");
            result[assignment[..equals].Trim().Replace("__", ":")] = assignment[(equals + 1)..];
        }
        return result;
    }

    private static LoadResult Progress(LoadResult result)
    {
        Console.Error.WriteLine(
            $"{result.Scenario}, {result.Callers} caller(s): {result.ImagesPerSecond:F1} images/s, p50 {result.LatencyPercentileMs(50):F1} ms, p99 {result.LatencyPercentileMs(99):F1} ms");
        return result;
    }

    internal static TimeSpan PositiveSeconds(double seconds, string flag) =>
        seconds > 0 && double.IsFinite(seconds) ? TimeSpan.FromSeconds(seconds) : throw new ArgumentException($"{flag} must be a positive number of seconds.");

    private static int[] ParseConcurrency(ArgumentResult result)
    {
        var values = new List<int>();
        var invalid = false;
        foreach (var part in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (int.TryParse(part, out var n) && n is >= 1 and <= 1024)
                values.Add(n);
            else
            {
                invalid = true;
                result.AddError($"--concurrency: '{part}' is not a number of callers between 1 and 1024.");
            }
        }
        if (values.Count == 0 && !invalid)
            result.AddError("--concurrency needs at least one number, e.g. 1,2,4,8.");
        return [.. values];
    }
}
