using System.Globalization;
using Iris.Configuration;
using Iris.Core.Transforms;
using Iris.Core.Transforms.Imgproxy;

namespace Iris.Http;

/// <summary>
/// The URLs of library images. With access control on, a browser cannot send an API key with an <c>&lt;img&gt;</c>, so
/// when a URL signing key is configured (Transforms:SigningKey and SigningSalt) the URLs handed to an owner are signed
/// and expire after Library:SignedUrlSeconds: <c>/images/{id}?expires=UNIX&amp;sig=…</c>, an HMAC-SHA256 of the id, the
/// thumbnail width and the expiry. Without access control (or without a key) they are plain <c>/images/{id}</c>.
/// </summary>
public static class ImageUrls
{
    public static string For(string id, string? owner, IrisOptions options, TimeProvider clock)
    {
        if (owner is null || options.Transforms.SigningKey.Length == 0) return $"/images/{id}";
        var expires = clock.GetUtcNow().ToUnixTimeSeconds() + options.Library.SignedUrlSeconds;
        return $"/images/{id}?expires={expires.ToString(CultureInfo.InvariantCulture)}&sig={Signer(options).Sign(Signed(id, expires))}";
    }

    /// <summary>
    /// Whether the request carries a valid, unexpired signature for this image; false when it carries none. Its
    /// thumbnails (<c>w</c>) are covered by the same signature.
    /// </summary>
    public static bool Verify(string id, string? expires, string? signature, IrisOptions options, TimeProvider clock)
    {
        if (signature is null) return false;
        if (options.Transforms.SigningKey.Length == 0)
            throw new UrlSignatureException("This server signs no image URLs (Transforms:SigningKey is not set); send your API key or token instead.");
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var at))
            throw new UrlSignatureException("A signed image URL needs expires (Unix seconds) beside sig.");
        if (at < clock.GetUtcNow().ToUnixTimeSeconds())
            throw new UrlSignatureException("This signed image URL has expired; ask the search again for a fresh one.");
        if (!Signer(options).Verify(signature, Signed(id, at)))
            throw new UrlSignatureException("The image URL's signature does not match.");
        return true;
    }

    private static string Signed(string id, long expires) => $"/images/{id}?expires={expires.ToString(CultureInfo.InvariantCulture)}";

    // Signed with the first key and salt, verified with every pair, so keys rotate as they do for imgproxy URLs.
    private static ImgproxySignature Signer(IrisOptions options) =>
        ImgproxySignature.FromHexLists(options.Transforms.SigningKey, options.Transforms.SigningSalt);
}
