using System.Text.RegularExpressions;

namespace Iris.Tests.Ocr;

/// <summary>How expected.json scores OCR: whitespace runs collapsed, character accuracy = 1 − edit distance / length.</summary>
public static partial class TextAccuracy
{
    public static string Collapse(string text) => Whitespace().Replace(text, " ").Trim();
    public static string WithoutWhitespace(string text) => Whitespace().Replace(text, "");

    /// <summary>The accuracy of the best-matching output row for one expected line.</summary>
    public static double BestLineAccuracy(string expected, IEnumerable<string> rows)
    {
        var target = Collapse(expected);
        return rows.Select(r => 1.0 - (double)EditDistance(target, Collapse(r)) / target.Length).DefaultIfEmpty(0).Max();
    }

    public static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
