using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Golden;

/// <summary>
/// The canonical text of an HTTP answer, compared with (or, when IRIS_UPDATE_GOLDEN=1, written to) a golden file in
/// tests/Iris.Tests/Golden/Responses. A JSON body is re-indented token by token from its raw bytes, so property order,
/// number text and string escaping stay exactly as the server wrote them; only whitespace changes and volatile values
/// (times, durations, ids) become <see cref="Placeholder"/>. A problem's <c>instance</c> is the request path, so it stays
/// pinned. A binary body is pinned by its SHA-256 and length.
/// </summary>
public static class GoldenResponse
{
    public const string Placeholder = "<volatile>";

    /// <summary>Every value under these properties varies run to run (clock readings and durations): leaves become the placeholder, keys and nulls stay.</summary>
    private static readonly HashSet<string> VolatileProperties = new(StringComparer.Ordinal)
    {
        "timings_ms", "timings", "processMs", "inferenceMs", "analysisRoundTripMs", "timestampUTC",
        "requestId", "request_id", "traceId", "trace_id",
        "created_at", "started_at", "completed_at", "next_attempt_at", "delivered_at",
    };

    /// <summary>Headers that are part of a documented answer (image routes, URL cache, back-off), pinned when sent.</summary>
    private static readonly string[] ContractHeaders = ["ETag", "Cache-Control", "Vary", "X-Cache", "X-Image-Width", "X-Image-Height", "Retry-After"];

    /// <summary>Counts, not durations, inside a timings object: deterministic, so they stay pinned.</summary>
    private static readonly HashSet<string> StableInsideTimings = new(StringComparer.Ordinal) { "decoder_steps" };

    public static string Directory => Path.Combine(TestPaths.RepositoryRoot, "tests", "Iris.Tests", "Golden", "Responses");

    private static bool Updating => Environment.GetEnvironmentVariable("IRIS_UPDATE_GOLDEN") == "1";

    /// <summary>
    /// The canonical form of <paramref name="response"/>: status, content type, location (when sent) and the body.
    /// <paramref name="substitutions"/> replaces known volatile strings (job ids) wherever they appear, with a stable name.
    /// </summary>
    public static async Task<string> CanonicalAsync(HttpResponseMessage response, IReadOnlyDictionary<string, string>? substitutions = null)
    {
        substitutions ??= new Dictionary<string, string>();
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = new StringBuilder();
        text.Append("{\n");
        text.Append("  \"status\": ").Append((int)response.StatusCode).Append(",\n");
        text.Append("  \"content_type\": ").Append(Quote(response.Content.Headers.ContentType?.ToString())).Append(",\n");
        if (response.Headers.Location is { } location)
            text.Append("  \"location\": ").Append(Quote(Substitute(location.OriginalString, substitutions))).Append(",\n");
        foreach (var header in ContractHeaders)
            if (response.Headers.TryGetValues(header, out var values) || response.Content.Headers.TryGetValues(header, out values))
                text.Append("  \"").Append(header.ToLowerInvariant()).Append("\": ").Append(Quote(string.Join(", ", values))).Append(",\n");
        if (IsJson(response.Content.Headers.ContentType))
        {
            text.Append("  \"body\": ");
            var reader = new Utf8JsonReader(bytes);
            reader.Read();
            WriteValue(ref reader, text, 1, volatileLeaves: false, substitutions);
            // A second top-level value, or trailing garbage, would be a change of contract too.
            if (reader.Read()) throw new InvalidOperationException("The body has more than one JSON value.");
            text.Append('\n');
        }
        else
        {
            text.Append("  \"body_bytes\": ").Append(bytes.Length).Append(",\n");
            text.Append("  \"body_sha256\": ").Append(Quote(Convert.ToHexStringLower(SHA256.HashData(bytes)))).Append('\n');
        }
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>Compares the canonical answer with the golden file <paramref name="name"/>.json, or rewrites the file when updating.</summary>
    public static async Task AssertMatchesAsync(string name, HttpResponseMessage response, IReadOnlyDictionary<string, string>? substitutions = null) =>
        AssertMatches(name, await CanonicalAsync(response, substitutions));

    public static void AssertMatches(string name, string canonical)
    {
        var path = Path.Combine(Directory, name + ".json");
        if (Updating)
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllText(path, canonical, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return;
        }
        Assert.True(File.Exists(path), $"No golden file {path}; run the tests with IRIS_UPDATE_GOLDEN=1 to write it, then review and commit it.");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (expected == canonical) return;
        var expectedLines = expected.Split('\n');
        var actualLines = canonical.Split('\n');
        var line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line]) line++;
        Assert.Fail(
            $"The answer differs from Golden/Responses/{name}.json at line {line + 1}:\n" +
            $"  golden: {(line < expectedLines.Length ? expectedLines[line] : "(end)")}\n" +
            $"  now:    {(line < actualLines.Length ? actualLines[line] : "(end)")}\n" +
            $"If the change is intended, rerun with IRIS_UPDATE_GOLDEN=1 and review the diff. The whole answer now:\n{canonical}");
    }

    private static bool IsJson(MediaTypeHeaderValue? type) =>
        type?.MediaType is { } media && (media == "application/json" || media.EndsWith("+json", StringComparison.Ordinal));

    private static void WriteValue(ref Utf8JsonReader reader, StringBuilder text, int depth, bool volatileLeaves, IReadOnlyDictionary<string, string> substitutions)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                var isObject = reader.TokenType == JsonTokenType.StartObject;
                var end = isObject ? JsonTokenType.EndObject : JsonTokenType.EndArray;
                reader.Read();
                if (reader.TokenType == end)
                {
                    text.Append(isObject ? "{}" : "[]");
                    return;
                }
                text.Append(isObject ? "{\n" : "[\n");
                var first = true;
                while (reader.TokenType != end)
                {
                    if (!first) text.Append(",\n");
                    first = false;
                    text.Append(' ', (depth + 1) * 2);
                    var childVolatile = volatileLeaves;
                    if (isObject)
                    {
                        var name = Raw(ref reader);
                        text.Append('"').Append(name).Append("\": ");
                        reader.Read();
                        childVolatile = VolatileProperties.Contains(name) || (volatileLeaves && !StableInsideTimings.Contains(name));
                    }
                    WriteValue(ref reader, text, depth + 1, childVolatile, substitutions);
                    reader.Read();
                }
                text.Append('\n').Append(' ', depth * 2).Append(isObject ? '}' : ']');
                return;
            case JsonTokenType.Null:
                text.Append("null");
                return;
            case JsonTokenType.String when !volatileLeaves:
                text.Append('"').Append(Substitute(Raw(ref reader), substitutions)).Append('"');
                return;
            case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False when !volatileLeaves:
                text.Append(Raw(ref reader));
                return;
            default:
                text.Append('"').Append(Placeholder).Append('"');
                return;
        }
    }

    /// <summary>The token exactly as sent: a string or name still escaped as the server escaped it, a number in its own digits.</summary>
    private static string Raw(ref Utf8JsonReader reader) => Encoding.UTF8.GetString(reader.ValueSpan);

    private static string Substitute(string value, IReadOnlyDictionary<string, string> substitutions)
    {
        foreach (var (from, to) in substitutions)
            value = value.Replace(from, to, StringComparison.Ordinal);
        return value;
    }

    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A header value as a JSON string, readable in the file (it is not part of any body, so no server escaping to keep).</summary>
    private static string Quote(string? value) => value is null ? "null" : JsonSerializer.Serialize(value, Readable);
}
