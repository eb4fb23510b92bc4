using System.Diagnostics;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Ocr;

/// <summary>
/// The @gutenye/ocr-node peer (installed by scripts/install-ocr-peer.sh into tools/ocr-peer), run in node on the
/// mirror's ppocr-v4 files, so both readers use the same weights.
/// </summary>
public static class OcrPeer
{
    public static string Directory => Path.Combine(TestPaths.RepositoryRoot, "tools", "ocr-peer");

    public sealed record Result(string Image, IReadOnlyList<string> Lines);

    public static async Task<IReadOnlyList<Result>> ReadAsync(IReadOnlyList<string> images)
    {
        if (!File.Exists(Path.Combine(Directory, "node_modules", "@gutenye", "ocr-node", "package.json")))
            throw new InvalidOperationException("The OCR peer is not installed: run scripts/install-ocr-peer.sh (scripts/test.sh does).");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Directory };
        start.ArgumentList.Add("run-peer.mjs");
        start.ArgumentList.Add(Path.Combine(TestPaths.ModelMirror, "ppocr-v4"));
        foreach (var image in images) start.ArgumentList.Add(image);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0) throw new InvalidOperationException($"The OCR peer failed ({process.ExitCode}): {await stderr}");
        using var document = JsonDocument.Parse(await stdout);
        return document.RootElement.EnumerateArray().Select(r => new Result(
            r.GetProperty("image").GetString()!,
            r.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!).ToList())).ToList();
    }
}
