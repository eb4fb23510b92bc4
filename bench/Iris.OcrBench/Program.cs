// OCR benchmark: Iris (in-process), the @gutenye/ocr-node peer (node) and Tesseract (CLI) on the OCR photos of
// shared/testdata/real, in the same run: milliseconds per image, images/s, and character accuracy against
// expected.json. Usage: dotnet run -c Release --project bench/Iris.OcrBench -- [--repeat N (10)] [--shared DIR]
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Core.Ocr;

var repeat = 10;
var root = FindRoot();
var shared = Path.GetFullPath(Path.Combine(root, "..", "shared"));
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--repeat") repeat = int.Parse(args[i + 1]);
    if (args[i] == "--shared") shared = Path.GetFullPath(args[i + 1]);
}
var real = Path.Combine(shared, "testdata", "real");
var mirror = Path.Combine(shared, "models");
var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(real, "expected.json"))).RootElement.GetProperty("images");
var images = expected.EnumerateObject().Where(i => i.Value.TryGetProperty("ocr", out _)).Select(i => i.Name).ToList();
string[] ExpectedLines(string file) =>
    expected.GetProperty(file).GetProperty("ocr").GetProperty("lines").EnumerateArray().Select(l => l.GetString()!).ToArray();

// Every reader gets the same upright pixels: the peer and Tesseract ignore EXIF orientation.
var decoder = new ImageDecoder(new ImageLimits(50_000_000, 100_000_000, TimeSpan.FromSeconds(30)));
var work = Directory.CreateTempSubdirectory("iris-ocr-bench");
var decoded = new Dictionary<string, DecodedImage>();
var pngs = new Dictionary<string, string>();
foreach (var file in images)
{
    var image = decoder.Decode(File.ReadAllBytes(Path.Combine(real, file)), CancellationToken.None);
    decoded[file] = image;
    pngs[file] = Path.Combine(work.FullName, Path.ChangeExtension(file, ".png"));
    using var vips = NetVips.Image.NewFromMemory(image.Rgb, image.Width, image.Height, 3, NetVips.Enums.BandFormat.Uchar);
    vips.WriteToFile(pngs[file]);
}

var times = new Dictionary<(string Reader, string File), List<double>>();
var texts = new Dictionary<(string Reader, string File), string>();
var cpu = new Dictionary<string, double>();
void Record(string reader, string file, double ms, string text, double cpuMs)
{
    if (!times.TryGetValue((reader, file), out var list)) times[(reader, file)] = list = [];
    list.Add(ms);
    texts[(reader, file)] = text;
    cpu[reader] = cpu.GetValueOrDefault(reader) + cpuMs;
}
var self = Process.GetCurrentProcess();
double SelfCpuMs()
{
    self.Refresh();
    return self.TotalProcessorTime.TotalMilliseconds;
}
const string IrisName = "Iris (in-process)", PeerName = "@gutenye/ocr-node (node)", TesseractName = "tesseract eng+chi_sim (CLI)";

// Iris with the server's default settings; the first reading of each image is a warm-up.
var cache = Path.Combine(work.FullName, "models");
var sessions = new OnnxSessionFactory(new InferenceSettings(MaxConcurrentRuns: 1));
using var runtime = new ModelRuntime(new ModelCatalog(BuiltInManifests.Load(), cache),
    new ModelStore(cache, mirror, new ModelDownloader(new HttpClient(), 1)), [new PpOcrReaderLoader(sessions)], autoPull: true, verifyOnLoad: false);
var reader = await runtime.GetOcrReaderAsync("ppocr-v4");
foreach (var file in images) await reader.ReadAsync(decoded[file]);

// The peer stays loaded in one node process that reads image paths from stdin, so each reading can be timed on its own.
var peerStart = new ProcessStartInfo("node")
{
    RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = false,
    WorkingDirectory = Path.Combine(root, "tools", "ocr-peer"),
};
foreach (var a in new[] { "run-peer.mjs", Path.Combine(mirror, "ppocr-v4"), "--serve" }) peerStart.ArgumentList.Add(a);
using var peer = Process.Start(peerStart)!;
peer.StandardOutput.ReadLine(); // {"ready":true}
(double Ms, string Text) PeerRead(string png)
{
    peer.StandardInput.WriteLine(png);
    peer.StandardInput.Flush();
    using var answer = JsonDocument.Parse(peer.StandardOutput.ReadLine() ?? throw new InvalidOperationException("The peer exited."));
    var text = string.Join("\n", answer.RootElement.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()));
    return (answer.RootElement.GetProperty("ms").GetDouble(), text);
}
foreach (var file in images) PeerRead(pngs[file]);
double PeerCpuMs()
{
    peer.Refresh();
    return peer.TotalProcessorTime.TotalMilliseconds;
}

// The readers take turns image by image, so a burst of load from elsewhere falls on all three alike.
for (var round = 0; round < repeat; round++)
    foreach (var file in images)
    {
        var cpuBefore = SelfCpuMs();
        var clock = Stopwatch.StartNew();
        var result = await reader.ReadAsync(decoded[file]);
        Record(IrisName, file, clock.Elapsed.TotalMilliseconds, result.Text, SelfCpuMs() - cpuBefore);

        cpuBefore = PeerCpuMs();
        var (peerMs, peerText) = PeerRead(pngs[file]);
        Record(PeerName, file, peerMs, peerText, PeerCpuMs() - cpuBefore);

        // Tesseract as people run it: one process per image, its start-up and model load included.
        cpuBefore = ChildrenCpuMs();
        clock.Restart();
        var text = Run("tesseract", work.FullName, [pngs[file], "stdout", "-l", "eng+chi_sim"]);
        Record(TesseractName, file, clock.Elapsed.TotalMilliseconds, text, ChildrenCpuMs() - cpuBefore);
    }
peer.StandardInput.Close();
peer.WaitForExit();
var results = times.Select(t => (Reader: t.Key.Reader, File: t.Key.File, Ms: Median(t.Value), Text: texts[t.Key])).ToList();

Console.WriteLine($"OCR on {images.Count} images of shared/testdata/real, median of {repeat} runs each, {Environment.ProcessorCount} cores; CPU ms = user + system time of the reader's process per image, averaged\n");
Console.WriteLine("| reader | " + string.Join(" | ", images) + " | total ms | images/s | CPU ms per image | mean char accuracy | ignoring whitespace |");
Console.WriteLine("|---|" + string.Concat(images.Select(_ => "---:|")) + "---:|---:|---:|---:|---:|");
foreach (var group in results.GroupBy(r => r.Reader))
{
    var accuracies = group.Select(r => ExpectedLines(r.File).Average(l => Accuracy(l, r.Text))).ToList();
    var total = group.Sum(r => r.Ms);
    Console.WriteLine($"| {group.Key} | " + string.Join(" | ", group.Select(r => $"{r.Ms:F0} ms, {ExpectedLines(r.File).Average(l => Accuracy(l, r.Text)):P0}"))
        + $" | {total:F0} | {images.Count / (total / 1000):F2} | {cpu[group.Key] / (repeat * images.Count):F0} | {accuracies.Average():P1} | {group.Average(r => ExpectedLines(r.File).Average(l => Accuracy(Regex.Replace(l, @"\s", ""), Regex.Replace(r.Text, @"[^\S\n]", "")))):P1} |");
}
Console.WriteLine("\nText read:");
foreach (var r in results)
    Console.WriteLine($"- {r.Reader} · {r.File}: {Regex.Replace(r.Text, @"\s*\n\s*", " ⏎ ").Trim()}");
work.Delete(recursive: true);

// CPU time of waited-for child processes (Tesseract), from getrusage(RUSAGE_CHILDREN).
static double ChildrenCpuMs()
{
    if (Native.getrusage(-1, out var usage) != 0) return double.NaN;
    return (usage.UserSeconds + usage.SystemSeconds) * 1000.0 + (usage.UserMicroseconds + usage.SystemMicroseconds) / 1000.0;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

// expected.json's measure: whitespace collapsed, 1 − edit distance / length, against the best-matching output line.
static double Accuracy(string expectedLine, string text)
{
    var target = Collapse(expectedLine);
    return text.Split('\n').Select(l => Math.Max(0, 1.0 - (double)EditDistance(target, Collapse(l)) / target.Length)).DefaultIfEmpty(0).Max();
}

static string Collapse(string s) => Regex.Replace(s, @"\s+", " ").Trim();

static int EditDistance(string a, string b)
{
    var previous = Enumerable.Range(0, b.Length + 1).ToArray();
    var current = new int[b.Length + 1];
    for (var i = 1; i <= a.Length; i++)
    {
        current[0] = i;
        for (var j = 1; j <= b.Length; j++)
            current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        (previous, current) = (current, previous);
    }
    return previous[b.Length];
}

static string Run(string program, string directory, IEnumerable<string> arguments)
{
    var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
    foreach (var a in arguments) start.ArgumentList.Add(a);
    using var process = Process.Start(start)!;
    var stderr = process.StandardError.ReadToEndAsync();
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0) throw new InvalidOperationException($"{program} failed: {stderr.Result}");
    return output;
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Iris.slnx"))) return dir.FullName;
    throw new InvalidOperationException("Run from inside the Iris repository.");
}

internal static class Native
{
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    public struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVCsw, NIvCsw;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    public static extern int getrusage(int who, out RUsage usage);
}
