using System.Globalization;

namespace Iris.Core.Analysis;

/// <summary>A parameter of an analysis that cannot be used as sent; the message names it and its valid range.</summary>
public class InvalidAnalysisParameterException(string message, string parameter) : Exception(message)
{
    public string Parameter { get; } = parameter;
}

/// <summary>The request named a task that does not exist.</summary>
public sealed class UnknownAnalysisTaskException(IEnumerable<string> unknown, IEnumerable<string> valid)
    : InvalidAnalysisParameterException(
        $"Unknown task{(unknown.Count() > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} in tasks. Valid tasks: {string.Join(", ", valid)}.",
        "tasks");

/// <summary>The named parameters of an analysis (query string, form fields or CLI flags), parsed on demand by each task.</summary>
public sealed class AnalysisParameters(Func<string, string?> lookup)
{
    public static AnalysisParameters From(IReadOnlyDictionary<string, string?> values) =>
        new(name => values.TryGetValue(name, out var value) ? value : null);

    public string? String(string name) => lookup(name) is { Length: > 0 } value ? value : null;

    public float Float(string name, float fallback, float min, float max)
    {
        if (String(name) is not { } raw) return fallback;
        if (!float.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
            throw new InvalidAnalysisParameterException($"{name} must be a number between {min} and {max}; got '{raw}'.", name);
        if (value < min || value > max)
            throw new InvalidAnalysisParameterException($"{name} must be between {min} and {max}; got {raw}.", name);
        return value;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        if (String(name) is not { } raw) return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new InvalidAnalysisParameterException($"{name} must be a whole number between {min} and {max}; got '{raw}'.", name);
        if (value < min || value > max)
            throw new InvalidAnalysisParameterException($"{name} must be between {min} and {max}; got {raw}.", name);
        return value;
    }

    public bool Bool(string name, bool fallback) => String(name)?.Trim().ToLowerInvariant() switch
    {
        null => fallback,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        var raw => throw new InvalidAnalysisParameterException($"{name} must be true or false; got '{raw}'.", name),
    };
}
