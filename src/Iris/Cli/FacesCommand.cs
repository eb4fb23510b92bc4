using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Iris.Contracts;
using Iris.Core.Faces;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Faces;
using Spectre.Console;

namespace Iris.Cli;

public static class FacesCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Image files to find faces in.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "Face model (Faces:Model): ultraface-rfb-320 (default) or ultraface-rfb-640 for small faces." };
        var minConfidence = new Option<float?>("--min-confidence") { Description = "Keep faces scoring above this, 0–1 (Faces:MinConfidence). Default: 0.7." };
        var maxFaces = new Option<int?>("--max-faces") { Description = "Keep at most this many faces per image, 1–1000. Default: 100." };
        var json = new Option<bool>("--json") { Description = "Print the same JSON document as POST /v1/faces (one per file, as a JSON array)." };

        var command = new Command("faces", "Find faces in image files, in-process (no server needed). Models are pulled from the mirror when missing.");
        command.Arguments.Add(files);
        command.Options.Add(model);
        command.Options.Add(minConfidence);
        command.Options.Add(maxFaces);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var task = services.GetRequiredService<FacesTask>();
            var pipeline = services.GetRequiredService<ImageAnalyzer>();
            var parameters = new FacesTask.Parameters(parse.GetValue(model) ?? task.Default.Model, new FaceDetectionParameters(
                ParameterRange.Check(parse.GetValue(minConfidence) ?? task.Default.MinConfidence, "--min-confidence", 0f, 1f),
                ParameterRange.Check(parse.GetValue(maxFaces) ?? task.Default.MaxFaces, "--max-faces", 1, FacesTask.MaxFacesLimit)));

            return await ImageFiles.ForEachAsync(parse.GetValue(files)!, parse.GetValue(json), async (bytes, ct) =>
            {
                var total = Stopwatch.StartNew();
                var run = await pipeline.RunAsync(task, parameters, bytes, ct);
                return FacesResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds);
            }, PrintTable, cancellationToken);
        });
        return command;
    }

    private static void PrintTable(FileInfo file, FacesResponse response)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(file.Name)}[/] {response.Width}×{response.Height} · {response.Faces.Count} face(s) · {response.Model} · {response.TimingsMs.Total:F1} ms")
            .AddColumn(new TableColumn("confidence").RightAligned())
            .AddColumn(new TableColumn("x_min").RightAligned()).AddColumn(new TableColumn("y_min").RightAligned())
            .AddColumn(new TableColumn("x_max").RightAligned()).AddColumn(new TableColumn("y_max").RightAligned());
        foreach (var f in response.Faces)
            table.AddRow(f.Confidence.ToString("F3", CultureInfo.InvariantCulture), f.Box.XMin.ToString("F1", CultureInfo.InvariantCulture),
                f.Box.YMin.ToString("F1", CultureInfo.InvariantCulture), f.Box.XMax.ToString("F1", CultureInfo.InvariantCulture), f.Box.YMax.ToString("F1", CultureInfo.InvariantCulture));
        if (response.Faces.Count == 0)
            table.AddRow("[grey](no faces)[/]", "", "", "", "");
        AnsiConsole.Write(table);
    }
}
