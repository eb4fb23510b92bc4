using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Iris.Contracts;
using Iris.Core.Inspection;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Inspection;
using Spectre.Console;

namespace Iris.Cli;

public static class InfoCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Image files to describe.", Arity = ArgumentArity.OneOrMore };
        var includeGps = new Option<bool>("--include-gps") { Description = "Also print GPS coordinates from EXIF (left out by default for privacy)." };
        var json = new Option<bool>("--json") { Description = "Print the same JSON document as POST /v1/info (one per file, as a JSON array)." };

        var command = new Command("info", "Describe image files without a model: format, size, EXIF, dominant colours, brightness, contrast, colourfulness, sharpness and blur, perceptual hash.");
        command.Arguments.Add(files);
        command.Options.Add(includeGps);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var task = services.GetRequiredService<InfoTask>();
            var pipeline = services.GetRequiredService<ImageAnalyzer>();
            var parameters = new InfoTask.Parameters(new InspectionParameters(parse.GetValue(includeGps)));
            return await ImageFiles.ForEachAsync(parse.GetValue(files)!, parse.GetValue(json), async (bytes, ct) =>
            {
                var total = Stopwatch.StartNew();
                var run = await pipeline.RunAsync(task, parameters, bytes, ct);
                return InfoResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds);
            }, Print, cancellationToken);
        });
        return command;
    }

    private static void Print(FileInfo file, InfoResponse info)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string name, string value) => grid.AddRow($"[grey]{name}[/]", Markup.Escape(value));
        Row("format", $"{info.Format} ({info.MediaType}), {info.FileBytes:N0} bytes");
        Row("size", $"{info.Width}×{info.Height}, {info.BitDepth}-bit, {info.Channels} channel(s){(info.HasAlpha ? ", alpha" : "")}, {info.ColorSpace}");
        if (info.Frames > 1) Row("frames", $"{info.Frames}{(info.Animated ? " (animated)" : "")}");
        Row("orientation", info.Orientation.ToString(CultureInfo.InvariantCulture));
        if (info.Exif is { } exif)
        {
            var camera = string.Join(" ", new[] { exif.Make, exif.Model }.Where(s => s is not null));
            if (camera.Length > 0) Row("camera", camera);
            if (exif.LensModel is not null) Row("lens", exif.LensModel);
            if (exif.CaptureTime is not null) Row("captured", exif.CaptureTime);
            if (exif.Gps is { } gps) Row("gps", FormattableString.Invariant($"{gps.Latitude:F6}, {gps.Longitude:F6}"));
        }
        if (info.GpsPresent && info.Exif?.Gps is null) Row("gps", "present (use --include-gps to show)");
        Row("colours", string.Join("  ", info.DominantColors.Select(c => FormattableString.Invariant($"{c.Hex} {c.Share * 100:F0}%"))));
        Row("brightness", FormattableString.Invariant($"{info.Brightness:F3}   contrast {info.Contrast:F3}   colourfulness {info.Colorfulness:F1}"));
        Row("sharpness", FormattableString.Invariant($"{info.Sharpness.LaplacianVariance:F1} ({(info.Sharpness.Blurry ? "blurry" : "sharp")}, threshold {info.Sharpness.Threshold})"));
        Row("dhash", info.Dhash);
        AnsiConsole.Write(new Panel(grid).Header($"[bold]{Markup.Escape(file.Name)}[/]").Border(BoxBorder.Rounded));
    }
}
