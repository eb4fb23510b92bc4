using System.Globalization;
using System.Text;

namespace Iris.Core.Transforms.Imgproxy;

/// <summary>
/// Reads imgproxy processing options (<c>rs:fill:300:200/q:80/pr:thumb</c>) into <see cref="ImgproxyOptions"/>: names
/// and short forms, positional arguments separated by <c>:</c>, empty arguments keeping their defaults, later options
/// overriding earlier ones, and presets expanded in place (the <c>default</c> preset first, as imgproxy does). An option
/// Iris does not implement is refused by name, never ignored: a client would otherwise get an image it did not ask for.
/// </summary>
public sealed class ImgproxyOptionsParser(IReadOnlyDictionary<string, string> presets)
{
    private const int MaxPresetDepth = 8;

    /// <summary>imgproxy options that exist but that Iris does not implement (imgproxy Pro's and the rarer open ones).</summary>
    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "resizing_algorithm", "ra", "min-width", "mw", "min-height", "mh", "zoom", "z", "extend_aspect_ratio", "extend_ar", "exar",
        "objects_position", "obj_pos", "op", "crop_aspect_ratio", "crop_ar", "car", "background_alpha", "bga", "adjust", "a",
        "brightness", "br", "contrast", "co", "saturation", "sa", "monochrome", "mc", "duotone", "dt", "unsharp_masking", "ush",
        "blur_detections", "bd", "draw_detections", "dd", "colorize", "col", "gradient", "gr", "watermark", "wm", "watermark_url", "wmu",
        "watermark_text", "wmt", "watermark_size", "wms", "watermark_rotate", "wm_rot", "wmr", "watermark_shadow", "wmsh", "style", "st",
        "keep_copyright", "kcr", "dpi", "strip_color_profile", "scp", "enforce_thumbnail", "eth", "autoquality", "aq", "jpeg_options", "jpgo",
        "png_options", "pngo", "webp_options", "webpo", "avif_options", "avifo", "page", "pg", "pages", "pgs", "disable_animation", "da",
        "video_thumbnail_second", "vts", "video_thumbnail_keyframes", "vtk", "video_thumbnail_tile", "vtt", "video_thumbnail_animation", "vta",
        "fallback_image_url", "fiu", "skip_processing", "skp", "raw", "hashsum", "hs", "max_src_resolution", "msr", "max_src_file_size", "msfs",
        "max_animation_frames", "maf", "max_animation_frame_resolution", "mafr", "max_result_dimension", "mrd", "flip", "fl", "crop_objects",
        "c_obj", "blur_areas", "ba", "cache_tags", "ct", "bypass_cache", "bc", "color_profile", "cp", "icc", "preserve_hdr", "progressive_blur",
    };

    public static readonly IReadOnlyDictionary<string, OutputFormat> Formats = new Dictionary<string, OutputFormat>(StringComparer.OrdinalIgnoreCase)
    {
        ["jpg"] = OutputFormat.Jpeg, ["jpeg"] = OutputFormat.Jpeg, ["png"] = OutputFormat.Png, ["webp"] = OutputFormat.WebP,
        ["avif"] = OutputFormat.Avif, ["gif"] = OutputFormat.Gif, ["tiff"] = OutputFormat.Tiff, ["tif"] = OutputFormat.Tiff,
        ["heic"] = OutputFormat.Heif, ["heif"] = OutputFormat.Heif,
    };

    private static readonly Dictionary<string, ResizingType> ResizingTypes = new(StringComparer.Ordinal)
    {
        ["fit"] = ResizingType.Fit, ["fill"] = ResizingType.Fill, ["fill-down"] = ResizingType.FillDown,
        ["force"] = ResizingType.Force, ["auto"] = ResizingType.Auto,
    };

    private static readonly Dictionary<string, GravityType> Compass = new(StringComparer.Ordinal)
    {
        ["ce"] = GravityType.Centre, ["no"] = GravityType.North, ["so"] = GravityType.South, ["ea"] = GravityType.East,
        ["we"] = GravityType.West, ["noea"] = GravityType.NorthEast, ["nowe"] = GravityType.NorthWest,
        ["soea"] = GravityType.SouthEast, ["sowe"] = GravityType.SouthWest,
    };

    /// <summary>Parses the option segments of a URL (already percent-decoded), applying the default preset first.</summary>
    public ImgproxyOptions Parse(IEnumerable<string> segments)
    {
        var options = new ImgproxyOptions();
        if (presets.ContainsKey("default"))
            options = ApplyPreset(options, "default", 0);
        foreach (var segment in segments)
            options = Apply(options, segment, 0);
        return options;
    }

    /// <summary>True when the path segment is a processing option rather than the start of the source (options contain ':').</summary>
    public static bool IsOption(string segment) => segment.Contains(':');

    private ImgproxyOptions Apply(ImgproxyOptions o, string segment, int depth)
    {
        var parts = segment.Split(':');
        var name = parts[0];
        var a = parts[1..];
        switch (name)
        {
            case "resize" or "rs":
                o = Arg(a, 0) is { } rt ? o with { ResizingType = ParseResizingType(rt, name) } : o;
                o = SizeArguments(o, a[Math.Min(1, a.Length)..], name);
                return o;
            case "size" or "s":
                return SizeArguments(o, a, name);
            case "resizing_type" or "rt":
                return o with { ResizingType = ParseResizingType(One(a, name), name) };
            case "width" or "w":
                return o with { Width = Dimension(One(a, name), name) };
            case "height" or "h":
                return o with { Height = Dimension(One(a, name), name) };
            case "dpr":
                return o with { Dpr = Number(One(a, name), name, 0, 10, exclusiveMin: true) };
            case "enlarge" or "el":
                return o with { Enlarge = Bool(One(a, name), name) };
            case "extend" or "ex":
                return ExtendArguments(o, a, name);
            case "gravity" or "g":
                return o with { Gravity = ParseGravity(a, name, allowSmart: true) };
            case "crop" or "c":
                Count(a, 2, 5, name);
                return o with
                {
                    Crop = (Number(a[0], name, 0, PipelineMax), Number(a[1], name, 0, PipelineMax),
                        a.Length > 2 && a[2].Length > 0 ? ParseGravity(a[2..], name, allowSmart: true) : null),
                };
            case "trim" or "t":
                Count(a, 1, 4, name);
                if (a.Length > 2 && Arg(a, 2) is { } equalHor && Bool(equalHor, name) || a.Length > 3 && Arg(a, 3) is { } equalVer && Bool(equalVer, name))
                    throw Invalid($"{name}: equal_hor and equal_ver are not supported by Iris; leave them empty or false.", name);
                return o with { Trim = (Number(a[0], name, 0, 255), Arg(a, 1) is { } colour ? ParseHex(colour, name) : null) };
            case "padding" or "pd":
                Count(a, 1, 4, name);
                {
                    var top = Arg(a, 0) is { } t0 ? Int(t0, name, 0, PipelineMax) : 0;
                    var right = Arg(a, 1) is { } r0 ? Int(r0, name, 0, PipelineMax) : top;
                    var bottom = Arg(a, 2) is { } b0 ? Int(b0, name, 0, PipelineMax) : top;
                    var left = Arg(a, 3) is { } l0 ? Int(l0, name, 0, PipelineMax) : right;
                    return o with { Padding = new Padding(top, right, bottom, left) };
                }
            case "rotate" or "rot":
                Count(a, 1, 1, name);
                {
                    var angle = Int(a[0], name, -360, 360);
                    if (angle % 90 != 0)
                        throw Invalid($"{name}: only multiples of 90 degrees are supported, as in imgproxy; got {angle}.", name);
                    return o with { Rotate = (angle % 360 + 360) % 360 };
                }
            case "auto_rotate" or "ar":
                Count(a, 1, 1, name);
                if (!Bool(a[0], name))
                    throw Invalid($"{name}: Iris always applies the EXIF orientation; auto_rotate:false is not supported.", name);
                return o;
            case "background" or "bg":
                if (a.Length == 0 || a is [""]) return o with { Background = null };
                if (a.Length == 3)
                    return o with { Background = new Rgba((byte)Int(a[0], name, 0, 255), (byte)Int(a[1], name, 0, 255), (byte)Int(a[2], name, 0, 255), 255) };
                return o with { Background = ParseHex(One(a, name), name) };
            case "blur" or "bl":
                return o with { Blur = Number(One(a, name), name, 0, 100) };
            case "sharpen" or "sh":
                return o with { Sharpen = Number(One(a, name), name, 0, 10) };
            case "pixelate" or "pix":
                return o with { Pixelate = Int(One(a, name), name, 0, 1000) };
            case "quality" or "q":
                return o with { Quality = Int(One(a, name), name, 0, 100) };
            case "format_quality" or "fq":
                {
                    if (a.Length == 0 || a.Length % 2 != 0)
                        throw Invalid($"{name} takes format:quality pairs, e.g. fq:jpeg:80:webp:70.", name);
                    var qualities = new Dictionary<OutputFormat, int>(o.FormatQuality);
                    for (var i = 0; i < a.Length; i += 2)
                        qualities[ParseFormat(a[i], name)] = Int(a[i + 1], name, 0, 100);
                    return o with { FormatQuality = qualities };
                }
            case "max_bytes" or "mb":
                return o with { MaxBytes = Int(One(a, name), name, 0, int.MaxValue) };
            case "format" or "f" or "ext":
                return o with { Format = One(a, name).Length == 0 ? null : ParseFormat(a[0], name) };
            case "strip_metadata" or "sm":
                return o with { StripMetadata = Bool(One(a, name), name) };
            case "cachebuster" or "cb":
                return o with { CacheBuster = One(a, name) };
            case "expires" or "exp":
                Count(a, 1, 1, name);
                return o with { Expires = long.TryParse(a[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var expires)
                    ? expires : throw Invalid($"{name} must be a unix timestamp; got '{a[0]}'.", name) };
            case "filename" or "fn":
                Count(a, 1, 2, name);
                return o with { Filename = Arg(a, 1) is { } encoded && Bool(encoded, name) ? DecodeBase64Url(a[0], name) : a[0] };
            case "return_attachment" or "att":
                return o with { ReturnAttachment = Bool(One(a, name), name) };
            case "preset" or "pr":
                if (a.Length == 0) throw Invalid($"{name} needs at least one preset name.", name);
                foreach (var preset in a)
                    o = ApplyPreset(o, preset, depth + 1);
                return o;
        }
        if (Unsupported.Contains(name))
            throw Invalid($"The imgproxy option '{name}' is not supported by Iris.", name);
        throw Invalid($"Unknown imgproxy option '{name}'.", name);
    }

    private ImgproxyOptions ApplyPreset(ImgproxyOptions o, string preset, int depth)
    {
        if (depth > MaxPresetDepth)
            throw Invalid($"Presets nest deeper than {MaxPresetDepth} levels (a preset naming itself?).", "preset");
        if (!presets.TryGetValue(preset, out var text))
            throw Invalid($"Unknown preset '{preset}'; presets are defined in Transforms:ImgproxyPresets.", "preset");
        foreach (var segment in text.Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            o = Apply(o, segment, depth);
        return o;
    }

    /// <summary>width:height:enlarge:extend[:gravity…], as resize and size take them.</summary>
    private static ImgproxyOptions SizeArguments(ImgproxyOptions o, string[] a, string name)
    {
        if (Arg(a, 0) is { } w) o = o with { Width = Dimension(w, name) };
        if (Arg(a, 1) is { } h) o = o with { Height = Dimension(h, name) };
        if (Arg(a, 2) is { } enlarge) o = o with { Enlarge = Bool(enlarge, name) };
        if (a.Length > 3) o = ExtendArguments(o, a[3..], name);
        return o;
    }

    private static ImgproxyOptions ExtendArguments(ImgproxyOptions o, string[] a, string name)
    {
        if (a.Length == 0) throw Invalid($"{name}: extend needs a value (1/t/true or 0/f/false).", name);
        if (Arg(a, 0) is { } extend) o = o with { Extend = Bool(extend, name) };
        if (a.Length > 1 && a[1].Length > 0) o = o with { ExtendGravity = ParseGravity(a[1..], name, allowSmart: false) };
        return o;
    }

    private static ImgproxyGravity ParseGravity(string[] a, string name, bool allowSmart)
    {
        if (a.Length == 0 || a[0].Length == 0) throw Invalid($"{name}: gravity needs a type (ce, no, so, ea, we, noea, nowe, soea, sowe, sm or fp).", name);
        switch (a[0])
        {
            case "sm":
                if (!allowSmart) throw Invalid($"{name}: smart gravity (sm) cannot be used here.", name);
                Count(a, 1, 1, name);
                return new ImgproxyGravity(GravityType.Smart);
            case "fp":
                Count(a, 3, 3, name);
                return new ImgproxyGravity(GravityType.FocusPoint, Number(a[1], name, 0, 1), Number(a[2], name, 0, 1));
            case "obj" or "objw":
                throw Invalid($"{name}: object-oriented gravity ({a[0]}) is not supported by Iris.", name);
        }
        if (!Compass.TryGetValue(a[0], out var type))
            throw Invalid($"{name}: unknown gravity type '{a[0]}'; use one of {string.Join(", ", Compass.Keys)}, sm or fp.", name);
        Count(a, 1, 3, name);
        return new ImgproxyGravity(type,
            Arg(a, 1) is { } x ? Number(x, name, -PipelineMax, PipelineMax) : 0,
            Arg(a, 2) is { } y ? Number(y, name, -PipelineMax, PipelineMax) : 0);
    }

    private const int PipelineMax = TransformPipelineParser.MaxDimension;

    private static ResizingType ParseResizingType(string text, string name) =>
        ResizingTypes.TryGetValue(text, out var type)
            ? type
            : throw Invalid($"{name}: unknown resizing type '{text}'; use fit, fill, fill-down, force or auto.", name);

    private static OutputFormat ParseFormat(string text, string name) =>
        Formats.TryGetValue(text, out var format)
            ? format
            : throw Invalid($"{name}: the format '{text}' is not supported by Iris; use one of jpg, png, webp, avif, gif, tiff, heic.", name);

    private static string? Arg(string[] a, int index) => index < a.Length && a[index].Length > 0 ? a[index] : null;

    /// <summary>The only argument of a one-argument option.</summary>
    private static string One(string[] a, string name)
    {
        Count(a, 1, 1, name);
        return a[0];
    }

    private static void Count(string[] a, int min, int max, string name)
    {
        if (a.Length < min || a.Length > max)
            throw Invalid(min == max
                ? $"{name} takes {min} argument(s); got {a.Length}."
                : $"{name} takes {min} to {max} arguments; got {a.Length}.", name);
    }

    private static int Dimension(string text, string name) => Int(text, name, 0, PipelineMax);

    private static int Int(string text, string name, int min, int max) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Invalid($"{name}: '{text}' must be a whole number between {min} and {max}.", name);

    private static double Number(string text, string name, double min, double max, bool exclusiveMin = false) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            && (exclusiveMin ? value > min : value >= min) && value <= max
            ? value
            : throw Invalid($"{name}: '{text}' must be a number {(exclusiveMin ? "above" : "from")} {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.", name);

    /// <summary>imgproxy reads booleans as Go's strconv.ParseBool does.</summary>
    private static bool Bool(string text, string name) => text switch
    {
        "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
        "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
        _ => throw Invalid($"{name}: '{text}' must be a boolean (1, t, true, 0, f or false).", name),
    };

    private static Rgba ParseHex(string text, string name)
    {
        var hex = text.Length == 3 ? string.Concat(text.Select(c => new string(c, 2))) : text;
        if (hex.Length is 6 or 8 && uint.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var packed))
        {
            if (hex.Length == 6) packed = packed << 8 | 0xFF;
            return new Rgba((byte)(packed >> 24), (byte)(packed >> 16), (byte)(packed >> 8), (byte)packed);
        }
        throw Invalid($"{name}: '{text}' must be a hex colour such as fff or ff8800.", name);
    }

    public static string DecodeBase64Url(string text, string name)
    {
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            return Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            throw Invalid($"{name}: '{(text.Length > 60 ? text[..60] + "…" : text)}' is not URL-safe base64.", name);
        }
    }

    private static InvalidTransformException Invalid(string message, string option) => new(message, option);
}
