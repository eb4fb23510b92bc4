using System.Text.RegularExpressions;

namespace Iris.Tests.Operations;

/// <summary>The metric names a PromQL expression selects (Prometheus parses it; this only lists the names to check them).</summary>
public static partial class PromQl
{
    private static readonly HashSet<string> Keywords = ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan", "atan2"];

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}|\[[^\]]*\]")]
    private static partial Regex MatchersAndRanges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Groupings();

    [GeneratedRegex(@"(?<![\w.:])(?>[a-zA-Z_:][a-zA-Z0-9_:]*)(?!\s*\()")]
    private static partial Regex Identifiers();

    [GeneratedRegex(@"\boffset\s+\d+\w+")]
    private static partial Regex Offsets();

    public static IEnumerable<string> MetricNames(string expr)
    {
        var bare = Offsets().Replace(Groupings().Replace(MatchersAndRanges().Replace(Strings().Replace(expr, "\"\""), " "), " "), " ");
        return Identifiers().Matches(bare).Select(m => m.Value).Where(n => !Keywords.Contains(n.ToLowerInvariant())).Distinct();
    }

    /// <summary>Grafana's variables replaced by values Prometheus accepts, so a dashboard query can be sent as it is.</summary>
    public static string WithoutGrafanaVariables(string expr) => expr
        .Replace("$__rate_interval", "1m").Replace("$__interval", "1m").Replace("$__range", "5m")
        .Replace("${model:regex}", ".*").Replace("$model", ".*").Replace("${route:regex}", ".*").Replace("$route", ".*")
        .Replace("$queue", ".*").Replace("$instance", ".*").Replace("$job", "iris.*");
}
