using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary><c>iris library add|search|reindex</c> as a user runs them, in a process of their own.</summary>
public sealed class LibraryCommandTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private Dictionary<string, string> Environment => new()
    {
        ["IRIS__Jobs__Database"] = _data.File("jobs.db"),
        ["IRIS__Storage__Directory"] = _data.File("images"),
        ["IRIS__Library__IndexTasks"] = "embed",
        ["IRIS__Models__CacheDirectory"] = _data.File("models"),
        ["IRIS__Models__Mirror"] = TestPaths.ModelMirror,
    };

    [Fact]
    public async Task Add_walks_a_folder_skips_non_images_and_what_is_indexed_and_search_finds_them()
    {
        var folder = Directory.CreateDirectory(_data.File("photos"));
        var nested = folder.CreateSubdirectory("nested");
        foreach (var file in new[] { "flower-00.png", "flower-01.png" })
            File.Copy(Path.Combine(FlowerReference.Folder, file), Path.Combine(folder.FullName, file));
        File.Copy(Path.Combine(FlowerReference.Folder, "flower-02.png"), Path.Combine(nested.FullName, "flower-02.png"));
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, "notes.txt"), "not an image");

        var added = await IrisProcess.RunAsync(["library", "add", folder.FullName, "--collection", "garden"], Environment, TimeSpan.FromMinutes(3));
        Assert.True(added.ExitCode == 0, added.StandardError + added.StandardOutput);
        Assert.Contains("Indexed 3, already indexed 0, not images 1, failed 0", added.StandardOutput);
        Assert.Contains("Per-task time, summed: ", added.StandardOutput);

        // Rerun (as after an interruption): everything is skipped.
        var again = await IrisProcess.RunAsync(["library", "add", folder.FullName], Environment, TimeSpan.FromMinutes(3));
        Assert.Contains("Indexed 0, already indexed 3, not images 1, failed 0", again.StandardOutput);

        var query = FlowerReference.Queries[0];
        var expected = FlowerReference.Images.Take(3).MaxBy(i => FlowerReference.Cosine(query.TextEmbeds, i.ClipImageEmbeds))!.File;
        var search = await IrisProcess.RunAsync(["library", "search", query.Text, "--k", "2", "--mode", "semantic"], Environment, TimeSpan.FromMinutes(2));
        Assert.True(search.ExitCode == 0, search.StandardError);
        var lines = search.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains(expected, lines[0]);

        var reindex = await IrisProcess.RunAsync(["library", "reindex"], Environment, TimeSpan.FromMinutes(2));
        Assert.True(reindex.ExitCode == 0, reindex.StandardError);
        Assert.Contains("already in clip-tiny@", reindex.StandardOutput);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("search")]
    [InlineData("reindex")]
    public async Task Each_library_command_has_help(string command)
    {
        var help = await IrisProcess.RunAsync(["library", command, "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:", help.StandardOutput);
        Assert.Contains($"library {command}", help.StandardOutput);
    }
}
