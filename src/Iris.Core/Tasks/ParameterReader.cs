using System.Globalization;

namespace Iris.Core.Tasks;

/// <summary>
/// The one reader of named text parameters (query string, form fields, JSON body fields, job parameters, CLI
/// <c>--param</c>): each value is parsed and range-checked once, into the typed parameters of a task. A bad value is an
/// <see cref="InvalidParameterException"/> naming the parameter as the caller sent it, prefix included.
/// </summary>
public sealed class ParameterReader
{
    private readonly Func<string, string?> _lookup;
    private readonly string _prefix;

    public ParameterReader(Func<string, string?> lookup) : this(lookup, "") { }

    private ParameterReader(Func<string, string?> lookup, string prefix)
    {
        _lookup = lookup;
        _prefix = prefix;
    }

    public static ParameterReader From(IReadOnlyDictionary<string, string?> values) =>
        new(name => values.TryGetValue(name, out var value) ? value : null);

    public static ParameterReader None { get; } = new(_ => null);

    /// <summary>The same parameters seen through a prefix: <c>WithPrefix("detect_").Float("min_confidence", …)</c> reads <c>detect_min_confidence</c>.</summary>
    public ParameterReader WithPrefix(string prefix) => prefix.Length == 0 ? this : new(_lookup, _prefix + prefix);

    public string? String(string name) => _lookup(_prefix + name) is { Length: > 0 } value ? value : null;

    public float Float(string name, float fallback, float min, float max) => FloatOrNull(name, min, max) ?? fallback;

    public float? FloatOrNull(string name, float min, float max)
    {
        if (String(name) is not { } raw) return null;
        var full = _prefix + name;
        if (!float.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
            throw new InvalidParameterException($"{full} must be a number between {min} and {max}; got '{raw}'.", full);
        return ParameterRange.Check(value, full, min, max, raw);
    }

    public int Int(string name, int fallback, int min, int max) => IntOrNull(name, min, max) ?? fallback;

    public int? IntOrNull(string name, int min, int max)
    {
        if (String(name) is not { } raw) return null;
        var full = _prefix + name;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new InvalidParameterException($"{full} must be a whole number between {min} and {max}; got '{raw}'.", full);
        return ParameterRange.Check(value, full, min, max, raw);
    }

    public bool Bool(string name, bool fallback) => String(name)?.Trim().ToLowerInvariant() switch
    {
        null => fallback,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new InvalidParameterException($"{_prefix + name} must be true or false; got '{String(name)}'.", _prefix + name),
    };
}

/// <summary>The range check of every numeric parameter, shared by <see cref="ParameterReader"/> and callers that already hold a typed value (CLI options).</summary>
public static class ParameterRange
{
    public static float Check(float value, string name, float min, float max, string? raw = null) =>
        value >= min && value <= max ? value
            : throw new InvalidParameterException($"{name} must be between {min} and {max}; got {raw ?? value.ToString(CultureInfo.InvariantCulture)}.", name);

    public static int Check(int value, string name, int min, int max, string? raw = null) =>
        value >= min && value <= max ? value
            : throw new InvalidParameterException($"{name} must be between {min} and {max}; got {raw ?? value.ToString(CultureInfo.InvariantCulture)}.", name);
}
