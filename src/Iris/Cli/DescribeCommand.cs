using System.CommandLine;
using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Captioning;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Captioning;

namespace Iris.Cli;

public static class DescribeCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Image files to caption.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "Captioning model (Captioning:Model). Default: flower-captioner-tiny." };
        var maxNewTokens = new Option<int?>("--max-new-tokens") { Description = "Most tokens to generate. Default: from the model's generation_config.json." };
        var numBeams = new Option<int?>("--num-beams") { Description = "Beams for beam search; 1 is greedy. Default: from generation_config.json." };
        var noRepeat = new Option<int?>("--no-repeat-ngram-size") { Description = "Forbid repeating any n-gram of this size. Default: from generation_config.json." };
        var repetition = new Option<float?>("--repetition-penalty") { Description = "CTRL repetition penalty (1 = none). Default: from generation_config.json." };
        var batchSize = new Option<int>("--batch-size") { Description = "Images captioned together (one encoder run, one decoder run per step). Default: 8.", DefaultValueFactory = _ => 8 };
        var tokens = new Option<bool>("--tokens") { Description = "Include the generated token ids." };
        var json = new Option<bool>("--json") { Description = "Print the same JSON document as POST /v1/describe (one per file, as a JSON array)." };

        var command = new Command("describe", "Caption image files with a vision encoder-decoder model, in-process (no server needed).")
        {
            files, model, maxNewTokens, numBeams, noRepeat, repetition, batchSize, tokens, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var analyzer = services.GetRequiredService<ImageAnalyzer>();
            var task = services.GetRequiredService<DescribeTask>();
            var parameters = new DescribeTask.Parameters(parse.GetValue(model) ?? task.Default.Model, task.Check(new GenerationOverrides
            {
                MaxNewTokens = parse.GetValue(maxNewTokens),
                NumBeams = parse.GetValue(numBeams),
                NoRepeatNgramSize = parse.GetValue(noRepeat),
                RepetitionPenalty = parse.GetValue(repetition),
            }));
            var size = parse.GetValue(batchSize);
            if (size is < 1 or > 256)
            {
                Console.Error.WriteLine($"--batch-size must be between 1 and 256; got {size}.");
                return 2;
            }
            var exitCode = 0;
            var documents = new List<object>();
            void Fail(FileInfo file, string message)
            {
                exitCode = 1;
                if (parse.GetValue(json)) documents.Add(new { file = file.FullName, error = message });
                else Console.Error.WriteLine($"{file.Name}: {message}");
            }
            // Several images per encoder and decoder run: the pipeline decodes a chunk and runs the task once over it.
            foreach (var chunk in parse.GetValue(files)!.Chunk(size))
            {
                var read = new List<(FileInfo File, byte[] Bytes)>(chunk.Length);
                foreach (var file in chunk)
                {
                    try
                    {
                        read.Add((file, await File.ReadAllBytesAsync(file.FullName, cancellationToken)));
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        Fail(file, e.Message);
                    }
                }
                var runs = await analyzer.RunBatchAsync(task, parameters, read.Select(r => r.Bytes).ToList(), cancellationToken);
                for (var i = 0; i < runs.Count; i++)
                {
                    var (file, run) = (read[i].File, runs[i]);
                    if (run.Result is not { } result)
                    {
                        Fail(file, run.Error!.Message);
                        continue;
                    }
                    var response = DescribeResponse.From(result, 0, parse.GetValue(tokens), run.DecodeMs, run.RunMs + run.DecodeMs);
                    if (parse.GetValue(json)) documents.Add(new { file = file.FullName, result = response });
                    else Console.WriteLine($"{file.Name}: {response.Description}" + (response.Tokens is { } ids ? $"  [{string.Join(' ', ids)}]" : ""));
                }
            }
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(documents, DetectionResponse.Json));
            return exitCode;
        });
        return command;
    }
}
