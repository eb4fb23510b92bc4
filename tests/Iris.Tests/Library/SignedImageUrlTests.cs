using Iris.Configuration;
using Iris.Http;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Library;

/// <summary>Signed library image URLs follow the imgproxy key rotation: several comma-separated key and salt pairs.</summary>
public sealed class SignedImageUrlTests
{
    private const string NewKey = "943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881";
    private const string NewSalt = "520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5";
    private const string OldKey = "6c1b3f0e5d2a4978a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
    private const string OldSalt = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    private const string Id = "0123456789abcdef0123456789abcdef";

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-12-04T00:00:00Z"));

    private static IrisOptions Options(string keys, string salts) => IrisConfiguration.Load(IrisConfiguration.Build(overrides:
    [
        KeyValuePair.Create("Transforms:SigningKey", (string?)keys),
        KeyValuePair.Create("Transforms:SigningSalt", (string?)salts),
    ]));

    private static (string Expires, string Signature) Parts(string url)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri("http://iris" + url).Query);
        return (query["expires"].ToString(), query["sig"].ToString());
    }

    [Fact]
    public void With_two_key_pairs_urls_are_signed_with_the_first_and_urls_signed_with_either_verify()
    {
        var rotated = Options($"{NewKey},{OldKey}", $"{NewSalt},{OldSalt}");
        var (expires, signature) = Parts(ImageUrls.For(Id, "alice", rotated, _clock));
        Assert.True(ImageUrls.Verify(Id, expires, signature, rotated, _clock));
        Assert.True(ImageUrls.Verify(Id, expires, signature, Options(NewKey, NewSalt), _clock));

        // A URL handed out before the rotation, signed with what is now the second pair, keeps working until it expires.
        var (oldExpires, oldSignature) = Parts(ImageUrls.For(Id, "alice", Options(OldKey, OldSalt), _clock));
        Assert.True(ImageUrls.Verify(Id, oldExpires, oldSignature, rotated, _clock));
        Assert.Throws<Iris.Core.Transforms.UrlSignatureException>(() => ImageUrls.Verify(Id, oldExpires, oldSignature, Options(NewKey, NewSalt), _clock));
    }
}
