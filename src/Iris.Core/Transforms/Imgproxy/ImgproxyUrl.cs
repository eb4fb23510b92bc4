using System.Security.Cryptography;
using System.Text;

namespace Iris.Core.Transforms.Imgproxy;

/// <summary>
/// One imgproxy processing URL, <c>/{signature}/{options…}/plain/{source}@{ext}</c> or
/// <c>/{signature}/{options…}/{base64url source, may be split by '/'}.{ext}</c>, split as the client sent it: the
/// signed path (everything after the signature, still percent-encoded, since that is what was signed), the option
/// segments (decoded), the source and the extension.
/// </summary>
public sealed record ImgproxyUrl(string Signature, string SignedPath, IReadOnlyList<string> OptionSegments, string Source, string? Extension)
{
    /// <summary>Splits the raw path after the prefix (starting with '/', no query string).</summary>
    public static ImgproxyUrl Parse(string rawPath)
    {
        var segments = rawPath.Split('/');
        // segments[0] is the empty string before the leading '/'.
        if (segments.Length < 3 || segments[1].Length == 0)
            throw Invalid("The URL must look like /{signature}/{processing options}/plain/{source URL}@{extension} or /{signature}/{processing options}/{base64url source URL}.{extension}.");
        var signature = segments[1];
        var signedPath = rawPath[(segments[1].Length + 1)..];
        var options = new List<string>();
        var i = 2;
        for (; i < segments.Length && segments[i] != "plain" && ImgproxyOptionsParser.IsOption(Uri.UnescapeDataString(segments[i])); i++)
            options.Add(Uri.UnescapeDataString(segments[i]));
        if (i >= segments.Length || string.Join("", segments[i..]).Length == 0)
            throw Invalid("The URL has no source: after the processing options comes plain/{source URL} or the base64url-encoded source URL.");

        if (segments[i] == "plain")
        {
            var plain = string.Join('/', segments[(i + 1)..]);
            string? extension = null;
            // The extension follows the last '@'; an '@' inside the source itself is sent as %40.
            var at = plain.LastIndexOf('@');
            if (at >= 0)
            {
                extension = plain[(at + 1)..];
                plain = plain[..at];
            }
            if (plain.Length == 0) throw Invalid("plain/ must be followed by the source URL.");
            return new ImgproxyUrl(signature, signedPath, options, Uri.UnescapeDataString(plain), NonEmpty(extension));
        }

        var encoded = string.Concat(segments[i..]);
        string? ext = null;
        var dot = encoded.LastIndexOf('.');
        if (dot >= 0)
        {
            ext = encoded[(dot + 1)..];
            encoded = encoded[..dot];
        }
        return new ImgproxyUrl(signature, signedPath, options, ImgproxyOptionsParser.DecodeBase64Url(encoded, "source"), NonEmpty(ext));
    }

    private static string? NonEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static InvalidTransformException Invalid(string message) => new(message, "url");
}

/// <summary>
/// imgproxy's signature check: base64url(HMAC-SHA256(key, salt + path)), tried with every configured key/salt pair
/// (so keys rotate without downtime), optionally truncated to the first <c>size</c> bytes before encoding
/// (IMGPROXY_SIGNATURE_SIZE).
/// </summary>
public sealed class ImgproxySignature
{
    private readonly IReadOnlyList<UrlSignature> _pairs;
    private readonly int _size;

    public ImgproxySignature(IReadOnlyList<UrlSignature> pairs, int size = 32)
    {
        if (size is < 1 or > 32) throw new ArgumentOutOfRangeException(nameof(size), "The signature size is 1 to 32 bytes.");
        _pairs = pairs;
        _size = size;
    }

    /// <summary>Comma-separated hex keys and salts, paired in order, as IMGPROXY_KEY and IMGPROXY_SALT take them.</summary>
    public static ImgproxySignature FromHexLists(string keys, string salts, int size = 32)
    {
        var k = keys.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var s = salts.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (k.Length != s.Length)
            throw new ArgumentException($"There are {k.Length} signing keys but {s.Length} salts; they are paired in order.");
        return new ImgproxySignature(k.Zip(s, UrlSignature.FromHex).ToList(), size);
    }

    public bool IsConfigured => _pairs.Count > 0;

    /// <summary>The signature of <paramref name="path"/> with the first pair, as a client would compute it.</summary>
    public string Sign(string path) => _pairs[0].Sign(path, _size);

    public bool Verify(string signature, string path)
    {
        var given = Encoding.ASCII.GetBytes(signature);
        var valid = false;
        // Every pair is tried, so timing does not reveal which one matched.
        foreach (var pair in _pairs)
            valid |= CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(pair.Sign(path, _size)));
        return valid;
    }
}

/// <summary>An imgproxy URL whose <c>expires</c> time has passed (404, as imgproxy answers).</summary>
public sealed class ImgproxyUrlExpiredException(long expires) : Exception($"The URL expired at {Time(expires)} (its expires option).")
{
    // The option is any long a client wrote; one before year 1 has no date to show.
    private static string Time(long expires) =>
        expires >= DateTimeOffset.MinValue.ToUnixTimeSeconds() ? $"{DateTimeOffset.FromUnixTimeSeconds(expires):u}" : $"{expires} (Unix seconds)";
}
