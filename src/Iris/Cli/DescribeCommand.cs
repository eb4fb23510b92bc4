using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Captioning;
using Iris.Core.Imaging;
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
            var decoder = services.GetRequiredService<ImageDecoder>();
            var task = services.GetRequiredService<DescribeTask>();
            var parameters = new DescribeTask.Parameters(parse.GetValue(model) ?? task.Default.Model, task.Check(new GenerationOverrides
            {
                MaxNewTokens = parse.GetValue(maxNewTokens),
                NumBeams = parse.GetValue(numBeams),
                NoRepeatNgramSize = parse.GetValue(noRepeat),
                RepetitionPenalty = parse.GetValue(repetition),
            }));
            var overrides = parameters.Generation;
            var size = parse.GetValue(batchSize);
            if (size is < 1 or > 256)
            {
                Console.Error.WriteLine($"--batch-size must be between 1 and 256; got {size}.");
                return 2;
            }
            // Several images per encoder and decoder run: the batch is this command's own, so it runs the task's model itself.
            var captioner = await task.LoadAsync(parameters, cancellationToken);

            var exitCode = 0;
            var documents = new List<object>();
            var decoded = new List<(FileInfo File, DecodedImage Image, double DecodeMs)>();
            async Task FlushAsync()
            {
                // Images of one batch must share a tensor size; ViT-style processors resize to a fixed one.
                foreach (var group in decoded.GroupBy(d => captioner.Processor.OutputSize(d.Image)))
                {
                    var items = group.ToList();
                    var clock = Stopwatch.StartNew();
                    var batch = await captioner.DescribeAsync(items.Select(i => i.Image).ToList(), overrides, cancellationToken);
                    for (var i = 0; i < items.Count; i++)
                    {
                        var response = DescribeResponse.From(batch, i, parse.GetValue(tokens), items[i].DecodeMs, clock.Elapsed.TotalMilliseconds + items[i].DecodeMs);
                        if (parse.GetValue(json)) documents.Add(new { file = items[i].File.FullName, result = response });
                        else Console.WriteLine($"{items[i].File.Name}: {response.Description}" +
                            (response.Tokens is { } ids ? $"  [{string.Join(' ', ids)}]" : ""));
                    }
                }
                decoded.Clear();
            }
            foreach (var file in parse.GetValue(files)!)
            {
                try
                {
                    var bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken);
                    var clock = Stopwatch.StartNew();
                    decoded.Add((file, decoder.Decode(bytes, cancellationToken), clock.Elapsed.TotalMilliseconds));
                }
                catch (Exception e) when (e is ImageRejectedException or IOException or UnauthorizedAccessException)
                {
                    exitCode = 1;
                    if (parse.GetValue(json)) documents.Add(new { file = file.FullName, error = e.Message });
                    else Console.Error.WriteLine($"{file.Name}: {e.Message}");
                }
                if (decoded.Count >= size) await FlushAsync();
            }
            await FlushAsync();
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(documents, DetectionResponse.Json));
            return exitCode;
        });
        return command;
    }
}
