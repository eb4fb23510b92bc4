using System.CommandLine;
using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;

namespace Iris.Cli;

public static class TransformCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input") { Description = "The source image (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF or SVG; detected from its content)." };
        var output = new Argument<FileInfo>("output") { Description = "Where to write the result. Its extension picks the format unless the ops name one." };
        var ops = new Option<string?>("--ops")
        {
            Description = "The pipeline, as for POST /v1/transform, e.g. \"resize:w=800,h=600,fit=cover;sharpen:sigma=1;format:webp,q=80\". " +
                          "Operations: " + string.Join(", ", TransformPipelineParser.OperationNames) + ".",
        };

        var command = new Command("transform", "Transform an image file in-process (resize, crop, rotate, filters, enhance, format conversion), with the same pipeline, limits and time budget (Transforms:TimeBudgetMs) as POST /v1/transform.");
        command.Arguments.Add(input);
        command.Arguments.Add(output);
        command.Options.Add(ops);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var transform = services.GetRequiredService<TransformTask>();
            var source = parse.GetValue(input)!;
            var target = parse.GetValue(output)!;
            try
            {
                var parameters = transform.Read(parse.GetValue(ops));
                if (TransformPipelineParser.Formats.TryGetValue(target.Extension.TrimStart('.'), out var fromExtension))
                    parameters = parameters.WithFormatIfUnset(fromExtension);
                var clock = Stopwatch.StartNew();
                var bytes = await File.ReadAllBytesAsync(source.FullName, cancellationToken);
                var result = await transform.RunAsync(parameters, bytes, cancellationToken);
                await File.WriteAllBytesAsync(target.FullName, result.Bytes, cancellationToken);
                Console.Error.WriteLine($"{target.Name}: {result.Width}×{result.Height} {result.Format.Name()}, {result.Bytes.Length:N0} bytes in {clock.Elapsed.TotalMilliseconds:F0} ms");
                return 0;
            }
            catch (Exception e) when (e is InvalidParameterException or OutputTooLargeException or OutputFormatUnsupportedException)
            {
                Console.Error.WriteLine($"--ops: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is ImageRejectedException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"{source.Name}: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
