using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Iris.Contracts;
using Iris.Core.Classification;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Classification;
using Spectre.Console;

namespace Iris.Cli;

public static class ClassifyCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Image files to classify.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "Classification model name (Classification:Model), e.g. petal-color or your own model's name." };
        var topK = new Option<int?>("--top-k") { Description = "How many classes to show per image, 1–1000 (Classification:TopK). Default: 5." };
        var minConfidence = new Option<float?>("--min-confidence") { Description = "Drop classes below this confidence, 0–1 (Classification:MinConfidence). Default: 0." };
        var json = new Option<bool>("--json") { Description = "Print the same JSON document as POST /v1/classify (one per file, as a JSON array)." };

        var command = new Command("classify", "Classify image files with an image classifier, in-process (no server needed). Any classify model with a manifest works, including your own in the model cache.");
        command.Arguments.Add(files);
        command.Options.Add(model);
        command.Options.Add(topK);
        command.Options.Add(minConfidence);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var task = services.GetRequiredService<ClassifyTask>();
            var pipeline = services.GetRequiredService<ImageAnalyzer>();
            var parameters = new ClassifyTask.Parameters(parse.GetValue(model) ?? task.Default.Model, new ClassificationParameters(
                ParameterRange.Check(parse.GetValue(topK) ?? task.Default.TopK, "--top-k", 1, ClassifyTask.TopKLimit),
                ParameterRange.Check(parse.GetValue(minConfidence) ?? task.Default.MinConfidence, "--min-confidence", 0f, 1f)));

            return await ImageFiles.ForEachAsync(parse.GetValue(files)!, parse.GetValue(json), async (bytes, ct) =>
            {
                var total = Stopwatch.StartNew();
                var run = await pipeline.RunAsync(task, parameters, bytes, ct);
                return ClassificationResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds);
            }, PrintTable, cancellationToken);
        });
        return command;
    }

    private static void PrintTable(FileInfo file, ClassificationResponse response)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(file.Name)}[/] · {response.Model} · {response.TimingsMs.Total:F1} ms")
            .AddColumn("label").AddColumn(new TableColumn("class").RightAligned()).AddColumn(new TableColumn("confidence").RightAligned());
        foreach (var p in response.Predictions)
            table.AddRow(Markup.Escape(p.Label), p.ClassIndex.ToString(CultureInfo.InvariantCulture), p.Confidence.ToString("F4", CultureInfo.InvariantCulture));
        if (response.Predictions.Count == 0)
            table.AddRow("[grey](no class above min confidence)[/]", "", "");
        AnsiConsole.Write(table);
    }
}
