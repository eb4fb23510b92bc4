using System.CommandLine;
using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Detection;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Detection;
using Spectre.Console;

namespace Iris.Cli;

public static class DetectCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Image files to detect objects in.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "Detection model name (Detection:Model). Default: yolox-nano." };
        var minConfidence = new Option<float?>("--min-confidence") { Description = "Drop objects below this confidence, 0–1 (Detection:MinConfidence). Default: 0.4." };
        var maxDetections = new Option<int?>("--max-detections") { Description = "Keep at most this many objects per image, 1–1000. Default: 100." };
        var json = new Option<bool>("--json") { Description = "Print the same JSON document as POST /v1/detect (one per file, as a JSON array)." };

        var command = new Command("detect", "Detect objects in image files, in-process (no server needed). Models are pulled from the mirror when missing.");
        command.Arguments.Add(files);
        command.Options.Add(model);
        command.Options.Add(minConfidence);
        command.Options.Add(maxDetections);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var task = services.GetRequiredService<DetectTask>();
            var pipeline = services.GetRequiredService<ImageAnalyzer>();
            var parameters = new DetectTask.Parameters(parse.GetValue(model) ?? task.Default.Model, new DetectionParameters(
                ParameterRange.Check(parse.GetValue(minConfidence) ?? task.Default.MinConfidence, "--min-confidence", 0f, 1f),
                ParameterRange.Check(parse.GetValue(maxDetections) ?? task.Default.MaxDetections, "--max-detections", 1, DetectTask.MaxDetectionsLimit)));

            return await ImageFiles.ForEachAsync(parse.GetValue(files)!, parse.GetValue(json), async (bytes, ct) =>
            {
                var total = Stopwatch.StartNew();
                var run = await pipeline.RunAsync(task, parameters, bytes, ct);
                return DetectionResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds);
            }, PrintTable, cancellationToken);
        });
        return command;
    }

    private static void PrintTable(FileInfo file, DetectionResponse response)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(file.Name)}[/] {response.Width}×{response.Height} · {response.Model} · {response.TimingsMs.Total:F1} ms")
            .AddColumn("label").AddColumn(new TableColumn("confidence").RightAligned())
            .AddColumn(new TableColumn("x_min").RightAligned()).AddColumn(new TableColumn("y_min").RightAligned())
            .AddColumn(new TableColumn("x_max").RightAligned()).AddColumn(new TableColumn("y_max").RightAligned());
        foreach (var o in response.Objects)
            table.AddRow(Markup.Escape(o.Label), o.Confidence.ToString("F3"), o.Box.XMin.ToString("F1"), o.Box.YMin.ToString("F1"), o.Box.XMax.ToString("F1"), o.Box.YMax.ToString("F1"));
        if (response.Objects.Count == 0)
            table.AddRow("[grey](no objects)[/]", "", "", "", "", "");
        AnsiConsole.Write(table);
    }
}
