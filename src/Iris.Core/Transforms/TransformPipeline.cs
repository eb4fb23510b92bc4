using System.Globalization;
using System.Text.Json;
using NetVips;

namespace Iris.Core.Transforms;

/// <summary>
/// A parsed, validated pipeline: pixel steps in order, then how to write the result. <see cref="Canonical"/> is a
/// normalised text form of both, so two spellings of the same request share one cache entry.
/// </summary>
public sealed record TransformPipeline(IReadOnlyList<ITransformStep> Steps, OutputSettings Output)
{
    public static TransformPipeline Empty { get; } = new([], new OutputSettings());

    public string Canonical => string.Join(";", Steps.Select(s => s.ToString()).Append(Output.ToString()));
}

/// <summary>One operation and its named arguments, as the compatibility routes build them from query parameters.</summary>
public sealed record OperationCall(string Op, IReadOnlyList<KeyValuePair<string, string>> Arguments);

/// <summary>
/// Parses the ops language, <c>resize:w=800,h=600,fit=cover;sharpen:sigma=1;format:webp,q=80</c>: operations are
/// separated by <c>;</c>, an operation's name and arguments by <c>:</c>, arguments by <c>,</c>. An argument is
/// <c>key=value</c>, or a bare value that fills the operation's positional parameters in order (<c>resize:800,600</c>).
/// The same pipeline may be sent as JSON: <c>[{"op":"resize","w":800},{"op":"format","type":"webp"}]</c>.
/// </summary>
public sealed class TransformPipelineParser(int maxPipelineLength)
{
    private sealed record OpCall(string Name, List<KeyValuePair<string, string>> Named, List<string> Positional);

    private delegate void OpParser(OpArguments args, List<ITransformStep> steps, ref OutputSettings output);

    private sealed record OpSpec(string[] Positional, string[] Known, OpParser Parse);

    public TransformPipeline Parse(string? ops)
    {
        if (string.IsNullOrWhiteSpace(ops) || ops.Trim() is "-" or "_") return TransformPipeline.Empty;
        return Build(ParseCalls(ops));
    }

    /// <summary>Operations built by code (the compatibility routes map their query parameters to these).</summary>
    public TransformPipeline Parse(IEnumerable<OperationCall> operations) =>
        Build(operations.Select(o => new OpCall(o.Op, o.Arguments.ToList(), [])).ToList());

    /// <summary>A JSON string in the ops language, an array of such strings, or an array of <c>{"op": name, key: value…}</c> objects.</summary>
    public TransformPipeline Parse(JsonElement ops)
    {
        if (ops.ValueKind == JsonValueKind.String) return Parse(ops.GetString());
        if (ops.ValueKind != JsonValueKind.Array)
            throw new InvalidTransformException("ops must be a string such as \"resize:w=800;format:webp\" or an array of {\"op\": ...} objects.", "ops");
        var calls = new List<OpCall>();
        foreach (var item in ops.EnumerateArray())
        {
            if (calls.Count > maxPipelineLength) throw TooLong();
            if (item.ValueKind == JsonValueKind.String)
            {
                calls.AddRange(ParseCalls(item.GetString() ?? ""));
                continue;
            }
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("op", out var op) || op.ValueKind != JsonValueKind.String)
                throw new InvalidTransformException("Each element of ops must be an object with an \"op\" name, e.g. {\"op\": \"resize\", \"w\": 800}.", "ops");
            var call = new OpCall(op.GetString()!, [], []);
            foreach (var property in item.EnumerateObject().Where(p => p.Name != "op"))
            {
                var value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number => property.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => throw new InvalidTransformException($"{call.Name}.{property.Name} must be a string, number or boolean.", $"{call.Name}.{property.Name}"),
                };
                call.Named.Add(new(property.Name, value));
            }
            calls.Add(call);
        }
        return Build(calls);
    }

    private List<OpCall> ParseCalls(string ops)
    {
        var calls = new List<OpCall>();
        // Split lazily and stop past the limit: a body of "a;a;a;…" must not become millions of operations first.
        foreach (var range in ops.AsSpan().Split(';'))
        {
            var text = ops[range].Trim();
            if (text.Length == 0) continue;
            if (calls.Count == maxPipelineLength) throw TooLong();
            var colon = text.IndexOf(':');
            var name = (colon < 0 ? text : text[..colon]).Trim();
            var call = new OpCall(name, [], []);
            if (colon >= 0)
            {
                foreach (var argument in text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var equals = argument.IndexOf('=');
                    if (equals >= 0)
                        call.Named.Add(new(argument[..equals].Trim(), argument[(equals + 1)..].Trim()));
                    else if (call.Named.Count > 0)
                        throw new InvalidTransformException($"{name}: the bare value '{argument}' must come before the key=value arguments.", name);
                    else
                        call.Positional.Add(argument);
                }
            }
            calls.Add(call);
        }
        return calls;
    }

    /// <summary>The refusal of a pipeline with <paramref name="count"/> operations, or with more than the limit when parsing stopped early.</summary>
    private InvalidTransformException TooLong(int? count = null) => new(
        $"ops has {(count is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"more than {maxPipelineLength}")} operations; the limit is {maxPipelineLength} (Transforms:MaxPipelineLength).", "ops");

    private TransformPipeline Build(List<OpCall> calls)
    {
        if (calls.Count > maxPipelineLength) throw TooLong(calls.Count);
        var steps = new List<ITransformStep>();
        var output = new OutputSettings();
        foreach (var call in calls)
        {
            var name = call.Name.ToLowerInvariant();
            if (!Specs.TryGetValue(name, out var spec))
                throw new InvalidTransformException(
                    $"Unknown operation '{call.Name}'. Known operations: {string.Join(", ", Specs.Keys.Order())}.", "ops");
            var args = new OpArguments(name, call.Named, call.Positional, spec.Positional);
            spec.Parse(args, steps, ref output);
            args.RejectUnknown(spec.Known);
        }
        return new TransformPipeline(steps, output);
    }

    private static readonly Dictionary<string, ResizeFit> Fits = new(StringComparer.OrdinalIgnoreCase)
    {
        ["inside"] = ResizeFit.Inside, ["contain"] = ResizeFit.Contain, ["cover"] = ResizeFit.Cover,
        ["fill"] = ResizeFit.Fill, ["outside"] = ResizeFit.Outside,
    };

    private static readonly Dictionary<string, Enums.Kernel> Kernels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["nearest"] = Enums.Kernel.Nearest, ["linear"] = Enums.Kernel.Linear, ["cubic"] = Enums.Kernel.Cubic,
        ["mitchell"] = Enums.Kernel.Mitchell, ["lanczos2"] = Enums.Kernel.Lanczos2, ["lanczos3"] = Enums.Kernel.Lanczos3,
    };

    private static readonly Dictionary<string, Gravity> Gravities = new(StringComparer.OrdinalIgnoreCase)
    {
        ["centre"] = Gravity.Centre, ["center"] = Gravity.Centre, ["north"] = Gravity.North, ["south"] = Gravity.South,
        ["east"] = Gravity.East, ["west"] = Gravity.West, ["northeast"] = Gravity.NorthEast, ["northwest"] = Gravity.NorthWest,
        ["southeast"] = Gravity.SouthEast, ["southwest"] = Gravity.SouthWest, ["attention"] = Gravity.Attention,
        ["smart"] = Gravity.Attention, ["entropy"] = Gravity.Entropy,
    };

    private static readonly Dictionary<string, Gravity> SmartStrategies = new(StringComparer.OrdinalIgnoreCase)
    {
        ["attention"] = Gravity.Attention, ["entropy"] = Gravity.Entropy,
    };

    private static readonly Dictionary<string, EdgeMethod> EdgeMethods = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sobel"] = EdgeMethod.Sobel, ["canny"] = EdgeMethod.Canny,
    };

    public static readonly IReadOnlyDictionary<string, OutputFormat> Formats = new Dictionary<string, OutputFormat>(StringComparer.OrdinalIgnoreCase)
    {
        ["auto"] = OutputFormat.Auto, ["jpeg"] = OutputFormat.Jpeg, ["jpg"] = OutputFormat.Jpeg, ["png"] = OutputFormat.Png,
        ["webp"] = OutputFormat.WebP, ["avif"] = OutputFormat.Avif, ["heif"] = OutputFormat.Heif, ["heic"] = OutputFormat.Heif,
        ["tiff"] = OutputFormat.Tiff, ["tif"] = OutputFormat.Tiff, ["gif"] = OutputFormat.Gif, ["bmp"] = OutputFormat.Bmp,
    };

    private static readonly Dictionary<string, Enums.ForeignSubsample> Subsamples = new(StringComparer.OrdinalIgnoreCase)
    {
        ["auto"] = Enums.ForeignSubsample.Auto, ["on"] = Enums.ForeignSubsample.On, ["420"] = Enums.ForeignSubsample.On,
        ["off"] = Enums.ForeignSubsample.Off, ["444"] = Enums.ForeignSubsample.Off,
    };

    private static readonly Dictionary<string, Enums.ForeignTiffCompression> TiffCompressions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["none"] = Enums.ForeignTiffCompression.None, ["lzw"] = Enums.ForeignTiffCompression.Lzw,
        ["deflate"] = Enums.ForeignTiffCompression.Deflate, ["jpeg"] = Enums.ForeignTiffCompression.Jpeg,
    };

    private static readonly Dictionary<string, IccHandling> IccModes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["srgb"] = IccHandling.Srgb, ["keep"] = IccHandling.Keep,
    };

    /// <summary>Largest width or height a step may ask for; the output pixel limit applies on top.</summary>
    public const int MaxDimension = 100_000;

    private static OpSpec Step(string[] positional, string[] known, Func<OpArguments, ITransformStep> parse) =>
        new(positional, known, (OpArguments a, List<ITransformStep> steps, ref OutputSettings _) => steps.Add(parse(a)));

    private static ITransformStep Tone(string name) => new ToneStep(name);

    private static readonly Dictionary<string, OpSpec> Specs = BuildSpecs();

    private static Dictionary<string, OpSpec> BuildSpecs()
    {
        var specs = new Dictionary<string, OpSpec>(StringComparer.OrdinalIgnoreCase);
        var resize = Step(["w", "h", "fit"], ["w", "h", "fit", "enlarge", "kernel", "gravity", "background"], a =>
        {
            var w = a.Int("w", 1, MaxDimension, "width");
            var h = a.Int("h", 1, MaxDimension, "height");
            if (w is null && h is null)
                throw new InvalidTransformException("resize needs w or h (or both), each between 1 and 100000, e.g. resize:w=800.", "resize.w");
            return new ResizeStep(w, h, a.Choice("fit", Fits) ?? ResizeFit.Inside, a.Bool("enlarge") ?? false,
                a.Choice("kernel", Kernels) ?? Enums.Kernel.Lanczos3, a.Choice("gravity", Gravities, "g") ?? Gravity.Centre, a.Colour("background", "bg"));
        });
        specs["resize"] = resize;
        specs["rs"] = resize;
        specs["crop"] = Step(["w", "h", "gravity"], ["x", "y", "w", "h", "gravity"], a =>
        {
            var x = a.Int("x", 0, MaxDimension);
            var y = a.Int("y", 0, MaxDimension);
            var w = a.Int("w", 1, MaxDimension, "width");
            var h = a.Int("h", 1, MaxDimension, "height");
            if (w is null && h is null && x is null && y is null)
                throw new InvalidTransformException("crop needs a size (w, h) or a rectangle (x, y, w, h), e.g. crop:x=10,y=10,w=200,h=100.", "crop.w");
            return new CropStep(x, y, w, h, a.Choice("gravity", Gravities, "g") ?? Gravity.Centre);
        });
        specs["smartcrop"] = Step(["w", "h", "strategy"], ["w", "h", "strategy"], a =>
        {
            var w = a.Int("w", 1, MaxDimension, "width") ?? throw new InvalidTransformException("smartcrop.w is required, between 1 and 100000.", "smartcrop.w");
            var h = a.Int("h", 1, MaxDimension, "height") ?? throw new InvalidTransformException("smartcrop.h is required, between 1 and 100000.", "smartcrop.h");
            return new CropStep(null, null, w, h, a.Choice("strategy", SmartStrategies) ?? Gravity.Attention);
        });
        specs["trim"] = Step(["threshold"], ["threshold", "background"], a => new TrimStep(a.Double("threshold", 0, 255) ?? 10, a.Colour("background", "bg")));
        specs["rotate"] = Step(["angle"], ["angle", "background"], a => new RotateStep(
            a.Double("angle", -360, 360) ?? throw new InvalidTransformException("rotate.angle is required, between -360 and 360 degrees (clockwise).", "rotate.angle"),
            a.Colour("background", "bg")));
        specs["flip"] = Step([], [], _ => new FlipStep(Vertical: true));
        specs["flop"] = Step([], [], _ => new FlipStep(Vertical: false));
        specs["blur"] = Step(["radius"], ["radius"], a => new BoxBlurStep(a.Int("radius", 1, 50, "r") ?? 2));
        var gauss = Step(["sigma"], ["sigma"], a => new GaussianBlurStep(a.Double("sigma", 0.1, 100, "s") ?? 1.5));
        specs["gaussblur"] = gauss;
        specs["gaussian"] = gauss;
        specs["median"] = Step(["size"], ["size"], a =>
        {
            var size = a.Int("size", 3, 15) ?? 3;
            if (size % 2 == 0) throw new InvalidTransformException($"median.size must be an odd number between 3 and 15; got {size}.", "median.size");
            return new MedianStep(size);
        });
        specs["sharpen"] = Step(["sigma", "amount"], ["sigma", "amount", "flat", "threshold"], a => new SharpenStep(
            a.Double("sigma", 0.1, 10, "s") ?? 1, a.Double("amount", 0, 20, "m2") ?? 3, a.Double("flat", 0, 10, "m1") ?? 0, a.Double("threshold", 0, 100, "x1") ?? 2));
        specs["edge"] = Step(["method"], ["method", "sigma"], a => new EdgeStep(a.Choice("method", EdgeMethods) ?? EdgeMethod.Sobel, a.Double("sigma", 0.1, 10) ?? 1.4));
        specs["sobel"] = Step([], [], _ => new EdgeStep(EdgeMethod.Sobel, 1.4));
        specs["canny"] = Step(["sigma"], ["sigma"], a => new EdgeStep(EdgeMethod.Canny, a.Double("sigma", 0.1, 10) ?? 1.4));
        specs["emboss"] = Step([], [], _ => new KernelStep("emboss"));
        specs["contour"] = Step([], [], _ => new KernelStep("contour"));
        specs["grayscale"] = Step([], [], _ => Tone("grayscale"));
        specs["greyscale"] = specs["grayscale"];
        specs["sepia"] = Step([], [], _ => Tone("sepia"));
        specs["invert"] = Step([], [], _ => Tone("invert"));
        specs["negate"] = specs["invert"];
        specs["brightness"] = Step(["factor"], ["factor"], a => new BrightnessStep(Required(a, "factor", 0, 10)));
        specs["contrast"] = Step(["factor"], ["factor"], a => new ContrastStep(Required(a, "factor", 0, 10)));
        specs["saturation"] = Step(["factor"], ["factor"], a => new SaturationStep(Required(a, "factor", 0, 10)));
        specs["sharpness"] = Step(["factor"], ["factor"], a => new SharpnessStep(Required(a, "factor", 0, 10)));
        specs["gamma"] = Step(["exponent"], ["exponent"], a => new GammaStep(a.Double("exponent", 0.1, 10, "g") ?? 2.2));
        specs["normalize"] = Step([], [], _ => new NormalizeStep());
        specs["normalise"] = specs["normalize"];
        specs["autolevel"] = specs["normalize"];
        specs["enhance"] = new OpSpec([], ["normalize", "brightness", "contrast", "gamma", "saturation", "sharpness"],
            (OpArguments a, List<ITransformStep> steps, ref OutputSettings _) =>
            {
                var before = steps.Count;
                if (a.Bool("normalize", "normalise", "autolevel") == true) steps.Add(new NormalizeStep());
                if (a.Double("brightness", 0, 10) is { } b) steps.Add(new BrightnessStep(b));
                if (a.Double("contrast", 0, 10) is { } c) steps.Add(new ContrastStep(c));
                if (a.Double("gamma", 0.1, 10) is { } g) steps.Add(new GammaStep(g));
                if (a.Double("saturation", 0, 10) is { } s) steps.Add(new SaturationStep(s));
                if (a.Double("sharpness", 0, 10) is { } sh) steps.Add(new SharpnessStep(sh));
                if (steps.Count == before)
                    throw new InvalidTransformException(
                        "enhance needs at least one of brightness, contrast, gamma, saturation, sharpness (factors, 1 = unchanged) or normalize=true.", "enhance");
            });

        specs["format"] = new OpSpec(["type"],
            ["type", "q", "progressive", "subsample", "compression", "palette", "lossless", "effort", "tiff_compression", "background"],
            (OpArguments a, List<ITransformStep> _, ref OutputSettings o) =>
            {
                var format = a.Choice("type", Formats) ?? o.Format;
                o = o with
                {
                    Format = format,
                    Quality = a.Int("q", 1, 100, "quality") ?? o.Quality,
                    Progressive = a.Bool("progressive", "interlace") ?? o.Progressive,
                    Subsample = a.Choice("subsample", Subsamples) ?? o.Subsample,
                    PngCompression = a.Int("compression", 0, 9) ?? o.PngCompression,
                    Palette = a.Bool("palette") ?? o.Palette,
                    Lossless = a.Bool("lossless") ?? o.Lossless,
                    Effort = a.Int("effort", 0, 9) ?? o.Effort,
                    TiffCompression = a.Choice("tiff_compression", TiffCompressions) ?? o.TiffCompression,
                    Background = a.Colour("background", "bg") ?? o.Background,
                };
                if (o.Lossless && format is OutputFormat.Jpeg or OutputFormat.Png or OutputFormat.Gif or OutputFormat.Tiff or OutputFormat.Bmp)
                    throw new InvalidTransformException($"format.lossless applies to webp, avif and heif, not {format.ToString().ToLowerInvariant()}.", "format.lossless");
                if (o.Palette && format is not (OutputFormat.Png or OutputFormat.Source or OutputFormat.Auto))
                    throw new InvalidTransformException($"format.palette applies to png, not {format.ToString().ToLowerInvariant()}.", "format.palette");
            });
        specs["f"] = specs["format"];
        specs["quality"] = new OpSpec(["q"], ["q"], (OpArguments a, List<ITransformStep> _, ref OutputSettings o) =>
            o = o with { Quality = a.Int("q", 1, 100, "quality") ?? throw new InvalidTransformException("quality.q is required, between 1 and 100.", "quality.q") });
        specs["metadata"] = new OpSpec(["keep"], ["keep", "icc"], (OpArguments a, List<ITransformStep> _, ref OutputSettings o) =>
            o = o with { KeepMetadata = a.Bool("keep") ?? o.KeepMetadata, Icc = a.Choice("icc", IccModes) ?? o.Icc });
        return specs;
    }

    private static double Required(OpArguments a, string key, double min, double max) =>
        a.Double(key, min, max) ?? throw new InvalidTransformException(
            $"{a.Op}.{key} is required, between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)} (1 = unchanged).", $"{a.Op}.{key}");

    /// <summary>The names the ops language understands, for help texts.</summary>
    public static IEnumerable<string> OperationNames => Specs.Keys.Order();
}
