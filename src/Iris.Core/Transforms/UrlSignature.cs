using System.Security.Cryptography;
using System.Text;

namespace Iris.Core.Transforms;

/// <summary>
/// imgproxy's URL signature: <c>base64url(HMAC-SHA256(key, salt + path))</c> without padding, where path is everything
/// after the signature segment, starting with '/'. Key and salt are configured as hex, as in imgproxy, so existing
/// signing code works unchanged.
/// </summary>
public sealed class UrlSignature
{
    private readonly byte[] _key;
    private readonly byte[] _salt;

    public UrlSignature(byte[] key, byte[] salt)
    {
        _key = key;
        _salt = salt;
    }

    public static UrlSignature FromHex(string keyHex, string saltHex) => new(Convert.FromHexString(keyHex), Convert.FromHexString(saltHex));

    /// <summary>The signature; imgproxy's IMGPROXY_SIGNATURE_SIZE keeps only the first <paramref name="size"/> bytes of the digest.</summary>
    public string Sign(string path, int size = 32)
    {
        var message = new byte[_salt.Length + Encoding.UTF8.GetByteCount(path)];
        _salt.CopyTo(message, 0);
        Encoding.UTF8.GetBytes(path, message.AsSpan(_salt.Length));
        return Base64Url(HMACSHA256.HashData(_key, message).AsSpan(0, size));
    }

    /// <summary>Compares in constant time, so response timing reveals nothing about the expected signature.</summary>
    public bool Verify(string signature, string path) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), Encoding.ASCII.GetBytes(Sign(path)));

    public static string Base64Url(ReadOnlySpan<byte> data) =>
        Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A /v1/img URL whose signature is missing or wrong (403).</summary>
public sealed class UrlSignatureException(string message) : Exception(message);
