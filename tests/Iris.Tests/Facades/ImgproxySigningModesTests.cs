using System.Net;
using System.Text.Json.Nodes;
using Iris.Core.Transforms.Imgproxy;
using Iris.Tests.Http;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Facades;

/// <summary>The signing modes a deployment chooses: unsigned URLs only while no key is set and they are allowed; truncated signatures.</summary>
public sealed class ImgproxySigningModesTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public ImgproxySigningModesTests()
    {
        Directory.CreateDirectory(_data.File("local"));
        using var photo = Image.Thumbnail(TestPaths.RealImage("dog.jpg"), 64);
        photo.WriteToFile(Path.Combine(_data.File("local"), "input.png"));
    }

    public void Dispose() => _data.Dispose();

    private async Task<IrisTestHost> StartAsync(params (string Key, string Value)[] overrides)
    {
        var settings = TransformHost.Settings(_data.Path);
        settings["Transforms:SigningKey"] = "";
        settings["Transforms:SigningSalt"] = "";
        settings["Transforms:LocalRoot"] = _data.File("local");
        foreach (var (key, value) in overrides) settings[key] = value;
        return await IrisTestHost.StartAsync(settings);
    }

    private static Task<string> UnsignedUrlAsync(IrisTestHost host) =>
        ImgproxyNode.UrlAsync(new Uri(host.Address, "/imgproxy").ToString(), "", "",
            new ImgproxyNode.Call("local:///input.png", new JsonObject { ["width"] = 32 }, Signed: false));

    [Fact]
    public async Task Without_a_key_insecure_urls_are_served_only_when_unsigned_urls_are_allowed()
    {
        await using (var allowed = await StartAsync(("Transforms:AllowUnsigned", "true")))
        {
            var url = await UnsignedUrlAsync(allowed);
            Assert.Contains("/imgproxy/insecure/", url);
            using var response = await allowed.Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var unsafeUrl = await allowed.Client.GetAsync(url.Replace("/insecure/", "/unsafe/"));
            Assert.Equal(HttpStatusCode.OK, unsafeUrl.StatusCode);
        }
        await using (var refused = await StartAsync())
        {
            using var response = await refused.Client.GetAsync(await UnsignedUrlAsync(refused));
            await TransformApiTests.AssertProblem(response, HttpStatusCode.Forbidden, "not configured");
        }
    }

    [Fact]
    public async Task A_truncated_signature_is_accepted_when_the_signature_size_says_so()
    {
        await using var host = await StartAsync(("Transforms:SigningKey", TransformHost.Key), ("Transforms:SigningSalt", TransformHost.Salt),
            ("Transforms:SignatureSize", "8"), ("Transforms:AllowUnsigned", "true"));
        var path = "/w:32/plain/local:///input.png";
        var truncated = new ImgproxySignature([TransformHost.Signer], size: 8).Sign(path);
        using var response = await host.Client.GetAsync($"/imgproxy/{truncated}{path}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The full-length signature is not this deployment's signature; nor is an unsigned URL while a key is set.
        using var full = await host.Client.GetAsync($"/imgproxy/{TransformHost.Signer.Sign(path)}{path}");
        Assert.Equal(HttpStatusCode.Forbidden, full.StatusCode);
        using var insecure = await host.Client.GetAsync($"/imgproxy/insecure{path}");
        Assert.Equal(HttpStatusCode.Forbidden, insecure.StatusCode);
    }
}
