using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Core.Transforms;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Http;

public class ImageUrlApiTests(TransformHost server) : IClassFixture<TransformHost>
{
    private HttpClient Client => server.Host.Client;
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

    private async Task<string> UploadAsync(byte[] image)
    {
        using var response = await Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(image));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public void Signature_is_imgproxy_compatible() =>
        // Computed independently with Python's hmac module for imgproxy's documented key, salt and path.
        Assert.Equal("m3k5QADfcKPDj-SDI2AIogZbC3FlAXszuwhtWXYqavc",
            TransformHost.Signer.Sign("/rs:fit:300:300/plain/http://img.example.com/pretty/image.jpg"));

    [Fact]
    public async Task Upload_returns_a_content_addressed_id_and_the_image_header()
    {
        using var response = await Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(Dog));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal((768, 576, "jpeg"), (body.GetProperty("width").GetInt32(), body.GetProperty("height").GetInt32(), body.GetProperty("format").GetString()));
        Assert.Equal(body.GetProperty("id").GetString(), await UploadAsync(Dog));
    }

    [Fact]
    public async Task Upload_refuses_what_is_not_an_image()
    {
        using var response = await Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(Encoding.UTF8.GetBytes("hello, not an image")));
        await TransformApiTests.AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "not an image");
    }

    [Theory]
    [InlineData("dog.jpg")]
    [InlineData("png")]
    public async Task Upload_refuses_a_truncated_image_with_422_and_stores_nothing(string source)
    {
        var whole = source == "png" ? Image.NewFromBuffer(Dog).PngsaveBuffer() : Dog;
        var truncated = whole[..(whole.Length * 2 / 3)];

        using var response = await Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(truncated));

        await TransformApiTests.AssertProblem(response, HttpStatusCode.UnprocessableEntity, "corrupt or truncated");
        using var stored = await Client.GetAsync(TransformHost.SignedUrl("resize:w=10", Iris.Core.Storage.BlobIds.For(truncated)));
        Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
    }

    [Fact]
    public async Task A_signed_url_serves_the_transformed_stored_image_cacheably()
    {
        var id = await UploadAsync(Dog);
        using var response = await Client.GetAsync(TransformHost.SignedUrl("resize:w=200;format:webp", id));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/webp", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("max-age=86400", response.Headers.CacheControl!.ToString());
        Assert.False(response.Headers.ETag!.IsWeak);
        using var image = Image.NewFromBuffer(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(200, image.Width);
    }

    [Fact]
    public async Task The_extension_on_the_source_picks_the_output_format()
    {
        var id = await UploadAsync(Dog);
        using var response = await Client.GetAsync(TransformHost.SignedUrl("resize:w=50", id + ".png"));
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Second_request_is_a_cache_hit_with_the_same_etag_and_304_on_if_none_match()
    {
        var id = await UploadAsync(Dog);
        var url = TransformHost.SignedUrl("resize:w=150;sepia", id);
        using var first = await Client.GetAsync(url);
        using var second = await Client.GetAsync(url);
        Assert.Equal("miss", first.Headers.GetValues("X-Cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("X-Cache").Single());
        Assert.Equal(first.Headers.ETag!.Tag, second.Headers.ETag!.Tag);
        Assert.Equal("150", second.Headers.GetValues("X-Image-Width").Single());
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(first.Headers.ETag);
        using var notModified = await Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(first.Headers.ETag.Tag, notModified.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task A_wrong_or_missing_signature_is_403()
    {
        var id = await UploadAsync(Dog);
        var good = TransformHost.SignedUrl("resize:w=100", id);
        var signature = good.Split('/')[3];
        var tampered = good.Replace("w=100", "w=101");
        using var wrong = await Client.GetAsync(tampered);
        await TransformApiTests.AssertProblem(wrong, HttpStatusCode.Forbidden, "signature does not match");
        using var unsigned = await Client.GetAsync($"/v1/img/unsafe/resize:w=100/{id}");
        await TransformApiTests.AssertProblem(unsigned, HttpStatusCode.Forbidden, "signature");
        using var ok = await Client.GetAsync(good);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.False(string.IsNullOrEmpty(signature));
    }

    [Fact]
    public async Task Unsigned_urls_work_only_when_explicitly_allowed()
    {
        using var data = new TempDirectory();
        var settings = TransformHost.Settings(data.Path);
        settings["Transforms:SigningKey"] = "";
        settings["Transforms:SigningSalt"] = "";
        await using (var unconfigured = await IrisTestHost.StartAsync(settings))
        {
            using var refused = await unconfigured.Client.GetAsync("/v1/img/unsafe/-/00000000000000000000000000000000");
            await TransformApiTests.AssertProblem(refused, HttpStatusCode.Forbidden, "Transforms:AllowUnsigned");
        }
        settings["Transforms:AllowUnsigned"] = "true";
        await using var open = await IrisTestHost.StartAsync(settings);
        using var upload = await open.Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(Dog));
        var id = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        using var response = await open.Client.GetAsync($"/v1/img/unsafe/resize:w=64/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_image_id_is_404()
    {
        using var response = await Client.GetAsync(TransformHost.SignedUrl("-", "0123456789abcdef0123456789abcdef"));
        await TransformApiTests.AssertProblem(response, HttpStatusCode.NotFound, "No stored image");
    }

    [Fact]
    public async Task Url_sources_are_fetched_plain_or_base64url_encoded()
    {
        await using var files = await FileServer.StartAsync();
        var url = files.Add("photos/dog.jpg", Dog).ToString();
        using var plain = await Client.GetAsync(TransformHost.SignedUrl("resize:w=80", "plain/" + Uri.EscapeDataString(url)));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        var encoded = UrlSignature.Base64Url(Encoding.UTF8.GetBytes(url));
        using var base64 = await Client.GetAsync(TransformHost.SignedUrl("resize:w=80", encoded + ".png"));
        Assert.Equal(HttpStatusCode.OK, base64.StatusCode);
        Assert.Equal("image/png", base64.Content.Headers.ContentType?.MediaType);
        using var missing = await Client.GetAsync(TransformHost.SignedUrl("-", "plain/" + Uri.EscapeDataString(files.Address + "nothing.jpg")));
        await TransformApiTests.AssertProblem(missing, HttpStatusCode.NotFound, "404");
    }

    [Fact]
    public async Task Loopback_and_private_sources_are_refused_by_default_and_non_http_schemes_always()
    {
        await using var files = await FileServer.StartAsync();
        var url = files.Add("dog.jpg", Dog).ToString();
        using var data = new TempDirectory();
        await using var strict = await IrisTestHost.StartAsync(TransformHost.Settings(data.Path, allowLoopback: false));
        using var refused = await strict.Client.GetAsync(TransformHost.SignedUrl("-", "plain/" + Uri.EscapeDataString(url)));
        await TransformApiTests.AssertProblem(refused, HttpStatusCode.Forbidden, "Sources:AllowPrivateNetworks");
        using var file = await strict.Client.GetAsync(TransformHost.SignedUrl("-", "plain/" + Uri.EscapeDataString("file:///etc/passwd")));
        await TransformApiTests.AssertProblem(file, HttpStatusCode.BadRequest, "http or https", "source");
    }

    [Fact]
    public async Task Sources_larger_than_the_byte_limit_are_refused_while_reading()
    {
        await using var files = await FileServer.StartAsync();
        var url = files.Add("big.bin", new byte[3_000_000]).ToString();
        using var data = new TempDirectory();
        var settings = TransformHost.Settings(data.Path);
        settings["Images:MaxBytes"] = "1000000";
        await using var limited = await IrisTestHost.StartAsync(settings);
        using var response = await limited.Client.GetAsync(TransformHost.SignedUrl("-", "plain/" + Uri.EscapeDataString(url)));
        await TransformApiTests.AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "Images:MaxBytes");
    }
}
