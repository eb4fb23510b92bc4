using System.Globalization;

namespace Iris.Configuration;

/// <summary>A size written the way operators write memory limits: <c>2GiB</c>, <c>512MiB</c>, <c>1.5GB</c>, <c>800k</c> or bytes.</summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
        ("K", 1_000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000), ("B", 1),
    ];

    /// <summary>False for an empty, negative or unreadable value.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var value = text.Trim();
        long factor = 1;
        foreach (var (suffix, f) in Units)
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                value = value[..^suffix.Length].TrimEnd();
                factor = f;
                break;
            }
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number <= 0 || double.IsInfinity(number))
            return false;
        var total = number * factor;
        if (total >= long.MaxValue) return false;
        bytes = (long)total;
        return true;
    }
}
