using System.Globalization;

namespace Iris.Http;

/// <summary>Parses query/form parameters into typed values with errors that name the parameter and its range.</summary>
public static class RequestParameters
{
    public static float Float(string? raw, string name, float fallback, float min, float max)
    {
        if (raw is null) return fallback;
        if (!float.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
            throw new InvalidRequestException($"{name} must be a number between {min} and {max}; got '{raw}'.", name);
        if (value < min || value > max)
            throw new InvalidRequestException($"{name} must be between {min} and {max}; got {raw}.", name);
        return value;
    }

    public static int Int(string? raw, string name, int fallback, int min, int max)
    {
        if (raw is null) return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new InvalidRequestException($"{name} must be a whole number between {min} and {max}; got '{raw}'.", name);
        if (value < min || value > max)
            throw new InvalidRequestException($"{name} must be between {min} and {max}; got {raw}.", name);
        return value;
    }

    public static bool Bool(string? raw, string name, bool fallback) => raw?.Trim().ToLowerInvariant() switch
    {
        null => fallback,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new InvalidRequestException($"{name} must be true or false; got '{raw}'.", name),
    };
}
