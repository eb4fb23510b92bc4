using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Ocr;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Ocr;

namespace Iris.Cli;

public static class OcrCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Image files to read text from.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "OCR model name (Ocr:Model). Default: ppocr-v4." };
        var minConfidence = new Option<float?>("--min-confidence") { Description = "Drop lines read with less confidence than this, 0–1 (Ocr:MinConfidence). Default: 0.5." };
        var json = new Option<bool>("--json") { Description = "Print the same JSON document as POST /v1/ocr (one per file, as a JSON array), with each line's confidence and polygon." };

        var command = new Command("ocr", "Read the text in image files (PP-OCRv4, Chinese and Latin script), in-process. Prints the text of each file; with several files, each is headed by its name.");
        command.Arguments.Add(files);
        command.Options.Add(model);
        command.Options.Add(minConfidence);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var task = services.GetRequiredService<OcrTask>();
            var pipeline = services.GetRequiredService<ImageAnalyzer>();
            var parameters = new OcrTask.Parameters(parse.GetValue(model) ?? task.Default.Model,
                new OcrParameters(ParameterRange.Check(parse.GetValue(minConfidence) ?? task.Default.MinConfidence, "--min-confidence", 0f, 1f)));

            var inputs = parse.GetValue(files)!;
            return await ImageFiles.ForEachAsync(inputs, parse.GetValue(json), async (bytes, ct) =>
            {
                var total = Stopwatch.StartNew();
                var run = await pipeline.RunAsync(task, parameters, bytes, ct);
                return OcrResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds);
            }, (file, response) =>
            {
                if (inputs.Length > 1) Console.WriteLine($"==> {file.Name} <==");
                if (response.Text.Length > 0) Console.WriteLine(response.Text);
            }, cancellationToken, OcrJson);
        });
        return command;
    }

    // Chinese text prints as itself, not as \uXXXX escapes.
    private static readonly JsonSerializerOptions OcrJson = new(DetectionResponse.Json)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
