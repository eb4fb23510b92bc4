using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Tasks;

namespace Iris.Cli;

public static class AnalyzeCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Image files to analyse.", Arity = ArgumentArity.OneOrMore };
        var tasks = new Option<string?>("--tasks") { Description = "Comma-separated tasks: detect, faces, classify, info (Analyze:DefaultTasks). Default: detect,faces,info." };
        var parameters = new Option<string[]>("--param")
        {
            Description = "A task parameter as name=value, as in the HTTP API (repeatable), e.g. --param classify_model=petal-color --param include_gps=true.",
            AllowMultipleArgumentsPerToken = false,
        };

        var command = new Command("analyze", "Run several tasks on each image file, decoded once, and print one JSON document per file (the document of POST /v1/analyze).");
        command.Arguments.Add(files);
        command.Options.Add(tasks);
        command.Options.Add(parameters);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var analyzer = services.GetRequiredService<ImageAnalyzer>();
            var selected = analyzer.Resolve(parse.GetValue(tasks) ?? options.Analyze.DefaultTasks);
            var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in parse.GetValue(parameters) ?? [])
            {
                var equals = pair.IndexOf('=');
                if (equals <= 0)
                    throw new InvalidParameterException($"--param '{pair}' must look like name=value, e.g. classify_model=petal-color.", "--param");
                values[pair[..equals].Trim()] = pair[(equals + 1)..];
            }
            var analysisParameters = ParameterReader.From(values);
            return await ImageFiles.ForEachAsync(parse.GetValue(files)!, json: true, async (bytes, ct) =>
            {
                var total = Stopwatch.StartNew();
                var result = await analyzer.AnalyzeAsync(bytes, selected, analysisParameters, ct);
                return AnalyzeResponse.From(result, total.Elapsed.TotalMilliseconds);
            }, (_, _) => { }, cancellationToken);
        });
        return command;
    }
}
