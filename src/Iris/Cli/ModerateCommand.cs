using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Iris.Contracts;
using Iris.Core.Moderation;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Moderation;
using Spectre.Console;

namespace Iris.Cli;

public static class ModerateCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Image files to judge.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "Content-safety model (Moderation:Model). Default: nsfw-mobilenet-v2." };
        var porn = new Option<float?>("--porn-threshold") { Description = "Porn above this is unsafe, 0–1 (Moderation:PornThreshold). Default: 0.5." };
        var hentai = new Option<float?>("--hentai-threshold") { Description = "Hentai above this is unsafe, 0–1 (Moderation:HentaiThreshold). Default: 0.5." };
        var sexy = new Option<float?>("--sexy-threshold") { Description = "Sexy above this is unsafe, 0–1 (Moderation:SexyThreshold). Default: 0.8." };
        var json = new Option<bool>("--json") { Description = "Print the same JSON document as POST /v1/moderate (one per file, as a JSON array)." };

        var command = new Command("moderate", "Judge whether image files are safe (content safety: Drawing, Hentai, Neutral, Porn, Sexy), in-process (no server needed).");
        command.Arguments.Add(files);
        command.Options.Add(model);
        command.Options.Add(porn);
        command.Options.Add(hentai);
        command.Options.Add(sexy);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var task = services.GetRequiredService<ModerateTask>();
            var pipeline = services.GetRequiredService<ImageAnalyzer>();
            var defaults = task.Default.Thresholds;
            var parameters = new ModerateTask.Parameters(parse.GetValue(model) ?? task.Default.Model, new ModerationThresholds(
                ParameterRange.Check(parse.GetValue(porn) ?? defaults.Porn, "--porn-threshold", 0f, 1f),
                ParameterRange.Check(parse.GetValue(hentai) ?? defaults.Hentai, "--hentai-threshold", 0f, 1f),
                ParameterRange.Check(parse.GetValue(sexy) ?? defaults.Sexy, "--sexy-threshold", 0f, 1f)));

            return await ImageFiles.ForEachAsync(parse.GetValue(files)!, parse.GetValue(json), async (bytes, ct) =>
            {
                var total = Stopwatch.StartNew();
                var run = await pipeline.RunAsync(task, parameters, bytes, ct);
                return ModerationResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds);
            }, PrintTable, cancellationToken);
        });
        return command;
    }

    private static void PrintTable(FileInfo file, ModerationResponse response)
    {
        var verdict = response.Safe ? "[green]safe[/]" : $"[red]unsafe ({Markup.Escape(string.Join(", ", response.Flagged))})[/]";
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(file.Name)}[/] {verdict} · {response.Model} · {response.TimingsMs.Total:F1} ms")
            .AddColumn("class").AddColumn(new TableColumn("probability").RightAligned()).AddColumn(new TableColumn("threshold").RightAligned());
        foreach (var (label, score) in response.Scores)
            table.AddRow(Markup.Escape(label), score.ToString("F4", CultureInfo.InvariantCulture),
                response.Thresholds.TryGetValue(label, out var t) ? t.ToString("F2", CultureInfo.InvariantCulture) : "");
        AnsiConsole.Write(table);
    }
}
