using System.Globalization;

namespace Iris.Core.Transforms;

/// <summary>
/// The arguments of one operation as written by the caller (<c>resize:800,h=600,fit=cover</c>), turned into typed
/// values with errors that name the parameter (<c>resize.h</c>) and the allowed range. Every argument must be consumed:
/// an unknown key is an error, not something silently ignored.
/// </summary>
public sealed class OpArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _used = new(StringComparer.OrdinalIgnoreCase);

    public OpArguments(string op, IEnumerable<KeyValuePair<string, string>> named, IReadOnlyList<string> positional, IReadOnlyList<string> positionalNames)
    {
        Op = op;
        if (positional.Count > positionalNames.Count)
            throw new InvalidTransformException(
                positionalNames.Count == 0
                    ? $"{op} takes no positional arguments; got '{string.Join(",", positional)}'."
                    : $"{op} takes at most {positionalNames.Count} positional argument(s) ({string.Join(", ", positionalNames)}); got {positional.Count}.",
                op);
        for (var i = 0; i < positional.Count; i++)
            _values[positionalNames[i]] = positional[i];
        foreach (var (key, value) in named)
        {
            if (!_values.TryAdd(key, value))
                throw new InvalidTransformException($"{op}.{key} is given twice.", $"{op}.{key}");
        }
    }

    public string Op { get; }

    public bool Has(string key) => _values.ContainsKey(key);

    public string? Raw(string key, params string[] aliases)
    {
        foreach (var name in aliases.Prepend(key))
        {
            if (_values.TryGetValue(name, out var value))
            {
                _used.Add(name);
                return value;
            }
        }
        return null;
    }

    private string Name(string key) => $"{Op}.{key}";

    public int? Int(string key, int min, int max, params string[] aliases)
    {
        var raw = Raw(key, aliases);
        if (raw is null) return null;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new InvalidTransformException($"{Name(key)} must be a whole number between {min} and {max}; got '{raw}'.", Name(key));
        return value;
    }

    public double? Double(string key, double min, double max, params string[] aliases)
    {
        var raw = Raw(key, aliases);
        if (raw is null) return null;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < min || value > max)
            throw new InvalidTransformException(
                $"{Name(key)} must be a number between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}; got '{raw}'.", Name(key));
        return value;
    }

    public bool? Bool(string key, params string[] aliases)
    {
        var raw = Raw(key, aliases);
        return raw?.ToLowerInvariant() switch
        {
            null => null,
            "1" or "true" or "t" or "yes" or "on" => true,
            "0" or "false" or "f" or "no" or "off" => false,
            _ => throw new InvalidTransformException($"{Name(key)} must be true or false (or 1/0); got '{raw}'.", Name(key)),
        };
    }

    public T? Choice<T>(string key, IReadOnlyDictionary<string, T> allowed, params string[] aliases) where T : struct
    {
        var raw = Raw(key, aliases);
        if (raw is null) return null;
        if (allowed.TryGetValue(raw, out var value)) return value;
        throw new InvalidTransformException($"{Name(key)} must be one of {string.Join(", ", allowed.Keys)}; got '{raw}'.", Name(key));
    }

    /// <summary>A colour as hex (<c>fff</c>, <c>ffffff</c> or <c>ffffff80</c> with alpha), since commas separate arguments.</summary>
    public Rgba? Colour(string key, params string[] aliases)
    {
        var raw = Raw(key, aliases);
        if (raw is null) return null;
        var hex = raw.TrimStart('#');
        if (hex.Length == 3) hex = string.Concat(hex.Select(c => new string(c, 2)));
        if (hex.Length is 6 or 8 && uint.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var packed))
        {
            if (hex.Length == 6) packed = packed << 8 | 0xFF;
            return new Rgba((byte)(packed >> 24), (byte)(packed >> 16), (byte)(packed >> 8), (byte)packed);
        }
        throw new InvalidTransformException($"{Name(key)} must be a hex colour such as fff, ff8800 or ff880080; got '{raw}'.", Name(key));
    }

    /// <summary>Rejects any argument no parser asked for, listing the ones this operation understands.</summary>
    public void RejectUnknown(IEnumerable<string> known)
    {
        var unknown = _values.Keys.FirstOrDefault(k => !_used.Contains(k));
        if (unknown is not null)
            throw new InvalidTransformException(
                $"{Op} has no parameter '{unknown}'; it accepts {string.Join(", ", known)}.", $"{Op}.{unknown}");
    }
}

/// <summary>An 8-bit colour with alpha, used for backgrounds (padding, rotation, flattening).</summary>
public readonly record struct Rgba(byte R, byte G, byte B, byte A)
{
    public static Rgba Black { get; } = new(0, 0, 0, 255);
    public static Rgba White { get; } = new(255, 255, 255, 255);

    /// <summary>The background as libvips wants it for an image with this many bands (grey, grey+alpha, RGB, RGBA).</summary>
    public double[] ForBands(int bands) => bands switch
    {
        1 => [Grey],
        2 => [Grey, A],
        3 => [R, G, B],
        _ => [R, G, B, A],
    };

    private double Grey => Math.Round(0.2126 * R + 0.7152 * G + 0.0722 * B);

    public override string ToString() => $"{R:x2}{G:x2}{B:x2}{A:x2}";
}
