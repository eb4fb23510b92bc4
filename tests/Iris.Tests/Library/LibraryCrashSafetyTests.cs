using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary>
/// Ingest with real processes: an API-only server takes the images, a worker indexing them is killed with SIGKILL
/// mid-run, another takes over. No image is lost, no indexing job completes twice, and the index holds each image once.
/// </summary>
public sealed partial class LibraryCrashSafetyTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [GeneratedRegex(@"Job (?<id>[0-9a-f]{32}) done by")]
    private static partial Regex DoneLine();

    private static List<string> CompletedIds(params IrisDaemon[] processes) =>
        processes.SelectMany(p => p.Lines).Select(l => DoneLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["id"].Value).ToList();

    [Fact]
    public async Task A_worker_killed_mid_ingest_loses_no_image_and_indexes_none_twice()
    {
        var environment = new Dictionary<string, string>
        {
            ["IRIS__Jobs__Database"] = _data.File("jobs.db"),
            ["IRIS__Jobs__InputDirectory"] = _data.File("inputs"),
            ["IRIS__Storage__Directory"] = _data.File("images"),
            ["IRIS__Library__IndexDatabase"] = _data.File("vectors.db"),
            ["IRIS__Jobs__Workers"] = "0",
            ["IRIS__Jobs__LeaseSeconds"] = "3",
            ["IRIS__Jobs__PollIntervalMs"] = "50",
            // Enough work per image that the first worker is still busy when it is killed: with embed alone it can finish
            // all 37 images before its eighth "done" line has travelled through the console logger and the pipe.
            ["IRIS__Library__IndexTasks"] = "embed,detect,describe",
            ["IRIS__Models__CacheDirectory"] = _data.File("models"),
            ["IRIS__Models__Mirror"] = TestPaths.ModelMirror,
            ["IRIS__Log__Format"] = "text",
            ["IRIS__Log__Level"] = "Information",
        };
        await using var api = await IrisTestHost.StartAsync(environment.ToDictionary(p => p.Key["IRIS__".Length..].Replace("__", ":"), p => (string?)p.Value));
        var files = FlowerReference.Images.Select(i => Path.Combine(FlowerReference.Folder, i.File))
            .Concat(Directory.GetFiles(TestPaths.RealImages, "*.jpg").Order(StringComparer.Ordinal)).ToList();
        var ids = new List<string>();
        foreach (var file in files) ids.Add(await LibraryFixture.AddAsync(api.Client, file, "crash"));
        Assert.Equal(files.Count, ids.Distinct().Count());

        var first = IrisDaemon.Start(["worker", "--concurrency", "1"], environment);
        await first.KillAfterLinesAsync(l => DoneLine().IsMatch(l), 8, TimeSpan.FromMinutes(3));
        var doneByFirst = CompletedIds(first).Count;
        Assert.InRange(doneByFirst, 8, files.Count - 1);

        await using var second = IrisDaemon.Start(["worker", "--concurrency", "2"], environment);
        var images = await LibraryFixture.WaitIndexedAsync(api.Client, ids, TimeSpan.FromMinutes(5));

        Assert.All(images.Values, i => Assert.Equal("indexed", i.GetProperty("state").GetString()));
        var jobs = images.Values.Select(i => i.GetProperty("job_id").GetString()!).ToList();
        Assert.Equal(ids.Count, jobs.Distinct().Count());
        var completions = CompletedIds(first, second);
        Assert.Equal(completions.Count, completions.Distinct().Count());
        Assert.Empty(completions.Except(jobs));
        foreach (var job in jobs)
            Assert.Equal("done", (await api.Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{job}")).GetProperty("status").GetString());
        // The index holds each image once: a search over everything answers each id exactly once.
        var hits = (await api.Client.GetFromJsonAsync<JsonElement>("/v1/search?text=anything&mode=semantic&k=1000")).GetProperty("hits")
            .EnumerateArray().Select(h => h.GetProperty("image_id").GetString()!).ToList();
        Assert.Equal(ids.Order(), hits.Order());
    }
}
