using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Iris.Configuration;
using Iris.Core.Imaging;
using Iris.Core.Library;
using Iris.Core.Library.Vectors;
using Spectre.Console;

namespace Iris.Cli;

/// <summary>
/// <c>iris library add|search|reindex</c>: the image library in-process, on the same job database, image store and
/// vector index as the server's configuration. Run them with the server stopped, or against a store the server
/// shares (Jobs:Store=postgres, Library:Index=pgvector): the embedded index is one process's at a time.
/// </summary>
public static class LibraryCommand
{
    public static Command Create()
    {
        var command = new Command("library", "The image library: add images (indexed in this process), search it, re-embed it after a model change.");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(Search());
        command.Subcommands.Add(Reindex());
        return command;
    }

    private static ServiceProvider Services(IrisOptions options) => CliServices.Create(options, s => s.AddIrisLibraryStandalone(options));

    private static Command Add()
    {
        var paths = new Argument<string[]>("paths") { Description = "Image files, or folders walked recursively.", Arity = ArgumentArity.OneOrMore };
        var collection = new Option<string?>("--collection") { Description = "The collection the images join. Default: default." };
        var tags = new Option<string?>("--tags") { Description = "Comma-separated tags for every image added." };
        var command = new Command("add",
            "Add images to the library and index them now (Library:IndexTasks), with a progress bar and an ETA. Folders are walked " +
            "recursively; files that are not images are skipped and counted. Resumable: an image already indexed (the same bytes) is " +
            "skipped, so rerunning after an interruption (Ctrl+C, or even a kill -9 mid-image) indexes only the rest; the image it " +
            "was on is indexed again from the start, never twice.")
        {
            paths, collection, tags,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            var name = parse.GetValue(collection) ?? LibraryImage.DefaultCollection;
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_.-]{1,64}$"))
            {
                Console.Error.WriteLine($"--collection must be 1–64 letters, digits, '-', '_' or '.'; got '{name}'.");
                return 2;
            }
            var files = new List<string>();
            foreach (var path in parse.GetValue(paths)!)
            {
                if (Directory.Exists(path)) files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
                else if (File.Exists(path)) files.Add(path);
                else
                {
                    Console.Error.WriteLine($"{path}: no such file or folder.");
                    return 2;
                }
            }
            await using var services = Services(options);
            var library = services.GetRequiredService<ImageLibrary>();
            var request = new IngestRequest(null, name,
                (parse.GetValue(tags) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(), null);
            int indexed = 0, skipped = 0, notImages = 0, failed = 0;
            var taskMs = new Dictionary<string, double>();
            var clock = Stopwatch.StartNew();
            var errors = new List<string>();
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress =>
                {
                    var bar = progress.AddTask($"Indexing {files.Count} file(s)", maxValue: Math.Max(1, files.Count));
                    foreach (var file in files)
                    {
                        try
                        {
                            var bytes = await File.ReadAllBytesAsync(file, cancellationToken);
                            if (bytes.Length == 0 || ImageFormatSniffer.Sniff(bytes) is null)
                            {
                                notImages++;
                                continue;
                            }
                            var (image, wasIndexed) = await library.AddAndIndexAsync(new IngestItem(bytes, Path.GetFileName(file)), request, cancellationToken);
                            if (wasIndexed) skipped++;
                            else
                            {
                                indexed++;
                                foreach (var (task, ms) in image.Fields?.TaskMs ?? new Dictionary<string, double>())
                                    taskMs[task] = taskMs.GetValueOrDefault(task) + ms;
                            }
                        }
                        catch (Exception e) when (e is ImageRejectedException or IOException or UnauthorizedAccessException or EmbeddingSpaceMismatchException)
                        {
                            failed++;
                            errors.Add($"{file}: {e.Message}");
                        }
                        finally
                        {
                            bar.Increment(1);
                        }
                    }
                });
            foreach (var error in errors) Console.Error.WriteLine(error);
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"Indexed {indexed}, already indexed {skipped}, not images {notImages}, failed {failed} in {seconds:F1} s" +
                              (indexed > 0 ? $" ({indexed / seconds:F2} images/s)." : "."));
            if (indexed > 0)
                Console.WriteLine("Per-task time, summed: " + string.Join(", ", taskMs.OrderByDescending(t => t.Value).Select(t => $"{t.Key} {t.Value / 1000:F1} s")) +
                                  $"; total {taskMs.Values.Sum() / 1000:F1} s.");
            return failed > 0 ? 1 : 0;
        });
        return command;
    }

    private static Command Search()
    {
        var text = new Argument<string>("text") { Description = "The query, e.g. \"a red flower\"." };
        var k = new Option<int>("--k") { Description = "Hits to print (1–Library:MaxK). Default: 10.", DefaultValueFactory = _ => 10 };
        var collection = new Option<string?>("--collection") { Description = "Only this collection." };
        var mode = new Option<string>("--mode") { Description = "hybrid (default), semantic or text.", DefaultValueFactory = _ => "hybrid" };
        var minScore = new Option<float?>("--min-score") { Description = "Drop hits whose calibrated score (0..1, 0.5 is chance) is below this." };
        var command = new Command("search", "Search the library by text and print the hits, best first: score, image id, file name, caption.")
        {
            text, k, collection, mode, minScore,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            var searchMode = parse.GetValue(mode) switch
            {
                "hybrid" => SearchMode.Hybrid,
                "semantic" => SearchMode.Semantic,
                "text" => SearchMode.Text,
                var other => (SearchMode?)null,
            };
            if (searchMode is null)
            {
                Console.Error.WriteLine($"--mode must be hybrid, semantic or text; got '{parse.GetValue(mode)}'.");
                return 2;
            }
            await using var services = Services(options);
            var result = await services.GetRequiredService<LibrarySearch>().SearchAsync(new SearchQuery
            {
                Text = parse.GetValue(text),
                K = parse.GetValue(k),
                Mode = searchMode.Value,
                MinScore = parse.GetValue(minScore),
                Filter = new VectorFilter(Collection: parse.GetValue(collection)),
            }, cancellationToken);
            if (result.Hits.Count == 0) Console.WriteLine("No hits.");
            foreach (var hit in result.Hits)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{hit.Score,8:F4}  {hit.Image.Id}  {hit.Image.FileName ?? "-"}  {hit.Image.Fields?.Caption ?? ""}  [{string.Join(",", hit.Matched)}]"));
            return 0;
        });
        return command;
    }

    private static Command Reindex()
    {
        var command = new Command("reindex",
            "Re-embed every indexed image with the configured embedding model (Embeddings:Model) into a new embedding space beside the " +
            "old one, then switch search to it in one step and drop the old vectors. Search keeps answering from the old space meanwhile. " +
            "Resumable: images the new space already holds are skipped. With the library already in that model's space, it gives any indexed " +
            "image without a vector there its vector (one that a server on the old model indexed while an earlier reindex ran).");
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = Services(options);
            var library = services.GetRequiredService<ImageLibrary>();
            ReindexResult? result = null;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var bar = progress.AddTask("Re-embedding", maxValue: 1);
                    result = await library.ReindexAsync(new Progress<(long Done, long Total)>(p =>
                    {
                        bar.MaxValue = Math.Max(1, p.Total);
                        bar.Value = p.Done;
                    }), cancellationToken);
                    bar.Value = bar.MaxValue;
                });
            if (result!.Faces > 0)
                Console.WriteLine($"Found the faces of {result.Faces} image(s) for people (Library:IndexTasks has face-embed).");
            if (result.From == result.To && result.Embedded > 0)
                Console.WriteLine($"The library is in {result.To?.Key}; gave {result.Embedded} of {result.Images} image(s) their missing vector.");
            else if (result.From == result.To)
                Console.WriteLine($"The library is already in {result.To?.Key ?? "no space (empty)"}; nothing to do.");
            else
                Console.WriteLine($"Re-embedded {result.Embedded} of {result.Images} image(s); search now uses {result.To?.Key} (was {result.From?.Key ?? "none"}).");
            return 0;
        });
        return command;
    }
}
