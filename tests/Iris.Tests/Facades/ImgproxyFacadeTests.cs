using System.Net;
using System.Net.Http.Headers;
using Iris.Tests.Http;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Facades;

/// <summary>
/// imgproxy URLs made by imgproxy's own node builder, served by Iris: every supported option gives the same size,
/// format and pixels as the same operations sent to /v1/transform (the one image path both doors share), or as the
/// `vips` CLI where imgproxy defines the result geometrically (pixelate, padding, extend, focus point).
/// </summary>
public class ImgproxyFacadeTests(ImgproxyHost server) : IClassFixture<ImgproxyHost>
{
    private HttpClient Client => server.Host.Client;

    /// <summary>(what, source file, imgproxy-node options, the same request in /v1/transform's ops, tolerance).</summary>
    public static TheoryData<string, string, string, string, double> SameAsTransform() => new()
    {
        { "rs:fit", "input.png", """{"resize":{"resizing_type":"fit","width":100,"height":100}}""", "resize:w=100,h=100,fit=inside", 0 },
        { "rs:fill centre", "input.png", """{"resize":{"resizing_type":"fill","width":121,"height":100}}""", "resize:w=121,h=100,fit=cover", 0 },
        { "rs:force", "input.png", """{"resize":{"resizing_type":"force","width":100,"height":100}}""", "resize:w=100,h=100,fit=fill", 0 },
        { "s (size)", "input.png", """{"size":{"width":128}}""", "resize:w=128", 0 },
        { "w", "input.png", """{"width":64}""", "resize:w=64", 0 },
        { "h with dpr", "input.png", """{"height":48,"dpr":2}""", "resize:h=96", 0 },
        { "rt:fill g:sm", "input.png", """{"resizing_type":"fill","width":100,"height":100,"gravity":{"type":"sm"}}""", "resize:w=100,h=100,fit=cover,gravity=attention", 0 },
        { "rt:fill g:we", "input.png", """{"resizing_type":"fill","width":100,"height":100,"gravity":{"type":"we"}}""", "resize:w=100,h=100,fit=cover,gravity=west", 0 },
        { "g:nowe with offsets", "input.png", """{"resize":{"resizing_type":"fill","width":100,"height":100},"gravity":{"type":"nowe","x_offset":10,"y_offset":5}}""", "resize:h=100;crop:x=10,y=0,w=100,h=100", 0 },
        { "rt:fill-down", "input.png", """{"resize":{"resizing_type":"fill-down","width":400,"height":200}}""", "crop:x=0,y=32,w=256,h=128", 0 },
        { "rt:auto same orientation", "input.png", """{"resize":{"resizing_type":"auto","width":100,"height":71}}""", "resize:w=100,h=71,fit=cover", 0 },
        { "rt:auto other orientation", "input.png", """{"resize":{"resizing_type":"auto","width":50,"height":100}}""", "resize:w=50,h=100,fit=inside", 0 },
        { "el", "input.png", """{"width":512,"enlarge":1}""", "resize:w=512,enlarge=true", 0 },
        { "c with gravity", "input.png", """{"crop":{"width":100,"height":80,"gravity":{"type":"nowe"}}}""", "crop:x=0,y=0,w=100,h=80", 0 },
        { "c relative", "input.png", """{"crop":{"width":0.5,"height":0.5}}""", "crop:x=64,y=48,w=128,h=96", 0 },
        { "t (trim)", "bordered.png", """{"trim":{"threshold":10}}""", "trim:threshold=10", 0 },
        { "rot with w", "input.png", """{"rotate":90,"width":96}""", "rotate:90;resize:w=96", 1.5 },
        { "bl", "input.png", """{"blur":2}""", "gaussblur:2", 0 },
        { "sh", "input.png", """{"sharpen":1.5}""", "sharpen:sigma=1.5", 0 },
        { "bg onto jpg", "alpha.png", """{"background":"ff0000","format":"jpg"}""", "format:jpeg,background=ff0000", 0 },
        { "q", "input.png", """{"quality":50,"format":"jpg"}""", "format:jpeg,q=50", 0 },
        { "f", "input.png", """{"format":"webp"}""", "format:webp", 0 },
        { "fq", "input.png", """{"format_quality":[{"format":"jpg","quality":40}],"format":"jpg"}""", "format:jpeg,q=40", 0 },
        { "sm:f keeps metadata", "input.png", """{"strip_metadata":0}""", "metadata:keep=true", 0 },
        { "ar:t", "input.png", """{"auto_rotate":1,"width":100}""", "resize:w=100", 0 },
        { "pr (preset)", "input.png", """{"preset":["thumb"]}""", "resize:w=64,h=48,fit=cover;format:png", 0 },
        { "cb, exp, fn, att change no pixels", "input.png", """{"cachebuster":"v2","expires":4102444800,"filename":{"name":"x"},"return_attachment":1,"width":80}""", "resize:w=80", 0 },
    };

    [Theory]
    [MemberData(nameof(SameAsTransform))]
    public async Task An_imgproxy_url_gives_what_the_same_operations_give_through_v1_transform(string what, string file, string options, string ops, double tolerance)
    {
        var url = await server.UrlAsync($"local:///{file}", options);
        using var viaImgproxy = await Client.GetAsync(url);
        Assert.True(viaImgproxy.StatusCode == HttpStatusCode.OK, $"{what}: {url} answered {(int)viaImgproxy.StatusCode} {await viaImgproxy.Content.ReadAsStringAsync()}");
        using var viaTransform = await Client.PostAsync("/v1/transform?ops=" + Uri.EscapeDataString(ops),
            TransformApiTests.Raw(File.ReadAllBytes(Path.Combine(server.LocalRoot, file))));
        Assert.Equal(HttpStatusCode.OK, viaTransform.StatusCode);

        Assert.Equal(viaTransform.Content.Headers.ContentType?.MediaType, viaImgproxy.Content.Headers.ContentType?.MediaType);
        using var expected = Image.NewFromBuffer(await viaTransform.Content.ReadAsByteArrayAsync());
        using var actual = Image.NewFromBuffer(await viaImgproxy.Content.ReadAsByteArrayAsync());
        PixelAssert.Similar(expected, actual, tolerance, $"{what} ({url})");
    }

    /// <summary>(what, imgproxy-node options, vips CLI commands from {in} to {dir}/out.png).</summary>
    public static TheoryData<string, string, string[][]> SameAsVips() => new()
    {
        { "pix", """{"pixelate":8,"format":"png"}""", [["shrink", "{in}", "{dir}/s.v", "8", "8"], ["zoom", "{dir}/s.v", "{dir}/out.png", "8", "8"]] },
        { "pd with bg", """{"padding":{"top":10,"right":5},"background":"0000ff","format":"png"}""",
            [["embed", "{in}", "{dir}/out.png", "5", "10", "266", "212", "--extend", "background", "--background", "0 0 255"]] },
        { "ex with bg", """{"resize":{"resizing_type":"fit","width":300,"height":300,"extend":{"extend":1}},"background":"ff0000","format":"png"}""",
            [["embed", "{in}", "{dir}/out.png", "22", "54", "300", "300", "--extend", "background", "--background", "255 0 0"]] },
        { "ex:t:no transparent", """{"width":300,"height":300,"extend":{"extend":1,"gravity":{"type":"no"}},"format":"png"}""",
            [["bandjoin_const", "{in}", "{dir}/a.v", "255"], ["embed", "{dir}/a.v", "{dir}/out.png", "22", "0", "300", "300", "--extend", "black"]] },
        { "c with g:fp", """{"crop":{"width":100,"height":100,"gravity":{"type":"fp","x":0.25,"y":0.5}},"format":"png"}""",
            [["crop", "{in}", "{dir}/out.png", "14", "46", "100", "100"]] },
    };

    [Theory]
    [MemberData(nameof(SameAsVips))]
    public async Task Geometric_options_match_the_vips_cli(string what, string options, string[][] commands)
    {
        using var dir = new TempDirectory();
        var input = Path.Combine(server.LocalRoot, "input.png");
        foreach (var command in commands)
            VipsCli.Run(command.Select(a => a.Replace("{in}", input).Replace("{dir}", dir.Path)).ToArray());
        using var expected = Image.NewFromFile(dir.File("out.png"));

        var url = await server.UrlAsync("local:///input.png", options);
        using var response = await Client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        using var actual = Image.NewFromBuffer(await response.Content.ReadAsByteArrayAsync());
        PixelAssert.Similar(expected, actual, 0.5, what);
    }

    [Fact]
    public async Task Plain_and_base64_sources_with_an_extension_give_the_same_image()
    {
        var plain = await server.UrlAsync("local:///input.png", """{"width":100}""", plain: true);
        var encoded = await server.UrlAsync("local:///input.png", """{"width":100}""");
        using var a = await Client.GetAsync(await SignedAsync(plain, "@webp"));
        using var b = await Client.GetAsync(await SignedAsync(encoded, ".webp"));
        Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        Assert.Equal("image/webp", a.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await a.Content.ReadAsByteArrayAsync(), await b.Content.ReadAsByteArrayAsync());
    }

    /// <summary>The builder emits no extension; a client that appends one signs the path with it, so re-sign with the suffix.</summary>
    private Task<string> SignedAsync(string url, string suffix)
    {
        var path = url[(server.Endpoint.Length + 1)..];
        var afterSignature = path[path.IndexOf('/')..] + suffix;
        var signature = new Iris.Core.Transforms.Imgproxy.ImgproxySignature([TransformHost.Signer]).Sign(afterSignature);
        return Task.FromResult($"{server.Endpoint}/{signature}{afterSignature}");
    }

    [Fact]
    public async Task A_url_signed_with_the_second_key_pair_is_served_too()
    {
        var url = await server.UrlAsync("local:///input.png", """{"width":50}""", key: ImgproxyHost.OldKey, salt: ImgproxyHost.OldSalt);
        using var response = await Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Unsigned_and_tampered_urls_are_refused_while_signing_is_on()
    {
        var insecure = await server.UrlAsync("local:///input.png", """{"width":50}""", signed: false);
        Assert.Contains("/insecure/", insecure);
        using var unsigned = await Client.GetAsync(insecure);
        await TransformApiTests.AssertProblem(unsigned, HttpStatusCode.Forbidden, "signature");
        using var unsafeUrl = await Client.GetAsync(insecure.Replace("/insecure/", "/unsafe/"));
        Assert.Equal(HttpStatusCode.Forbidden, unsafeUrl.StatusCode);

        var signed = await server.UrlAsync("local:///input.png", """{"width":50}""");
        using var tampered = await Client.GetAsync(signed.Replace("w:50", "w:51"));
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
    }

    [Theory]
    [InlineData("""{"watermark":{"opacity":0.5}}""", "wm")]
    [InlineData("""{"zoom":2}""", "z")]
    [InlineData("""{"wild_options":[["foo","1"]]}""", "foo")]
    [InlineData("""{"gravity":{"type":"obj","class_names":["face"]}}""", "obj")]
    public async Task An_option_iris_does_not_implement_answers_400_naming_it(string options, string name)
    {
        using var response = await Client.GetAsync(await server.UrlAsync("local:///input.png", options));
        await TransformApiTests.AssertProblem(response, HttpStatusCode.BadRequest, name);
    }

    [Fact]
    public async Task An_expired_url_answers_404_and_a_live_one_caps_max_age_at_its_expiry()
    {
        using var expired = await Client.GetAsync(await server.UrlAsync("local:///input.png", """{"expires":1,"width":10}"""));
        await TransformApiTests.AssertProblem(expired, HttpStatusCode.NotFound, "expired");

        var soon = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600;
        using var live = await Client.GetAsync(await server.UrlAsync("local:///input.png", $$"""{"expires":{{soon}},"width":10}"""));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.InRange(live.Headers.CacheControl!.MaxAge!.Value.TotalSeconds, 500, 600);
    }

    [Fact]
    public async Task An_expiry_before_year_one_is_expired_as_well()
    {
        using var response = await Client.GetAsync(await server.UrlAsync("local:///input.png", """{"expires":-62135596801,"width":10}"""));
        await TransformApiTests.AssertProblem(response, HttpStatusCode.NotFound, "-62135596801");
    }

    [Fact]
    public async Task A_local_source_with_a_nul_character_is_a_bad_source_url()
    {
        // Base64 encoded by the builder, so the NUL gets past Kestrel, which refuses %00 in a path.
        var url = await server.UrlAsync("local:///input\0.png", """{"width":10}""");
        Assert.DoesNotContain("/plain/", url);
        using var response = await Client.GetAsync(url);
        await TransformApiTests.AssertProblem(response, HttpStatusCode.BadRequest, "NUL");
    }

    [Fact]
    public async Task Without_a_format_the_accept_header_picks_webp_or_avif_and_the_answer_varies_on_it()
    {
        var url = await server.UrlAsync("local:///input.png", """{"width":60,"cachebuster":"accept"}""");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("image/webp,image/*");
        using var webp = await Client.SendAsync(request);
        Assert.Equal("image/webp", webp.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", webp.Headers.Vary);

        using var plain = await Client.GetAsync(url);
        Assert.Equal("image/png", plain.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", plain.Headers.Vary);
    }

    [Fact]
    public async Task Content_disposition_names_the_file_and_etag_answers_304()
    {
        using var inline = await Client.GetAsync(await server.UrlAsync("local:///input.png", """{"width":40,"format":"jpg"}"""));
        Assert.Equal("inline; filename=\"input.jpg\"", inline.Content.Headers.ContentDisposition!.ToString());
        Assert.Contains("max-age=86400", inline.Headers.CacheControl!.ToString());

        var url = await server.UrlAsync("local:///input.png", """{"width":40,"filename":{"name":"holiday"},"return_attachment":1}""");
        using var attachment = await Client.GetAsync(url);
        Assert.Equal("attachment; filename=\"holiday.png\"", attachment.Content.Headers.ContentDisposition!.ToString());

        var encodedName = Convert.ToBase64String("Fériés"u8.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        using var accented = await Client.GetAsync(await server.UrlAsync("local:///input.png", $$$"""{"width":40,"filename":{"name":"{{{encodedName}}}","encoded":1}}"""));
        Assert.Equal("Fériés.png", accented.Content.Headers.ContentDisposition!.FileNameStar);

        using var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(attachment.Headers.ETag!);
        using var notModified = await Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task Max_bytes_lowers_the_quality_until_the_image_fits()
    {
        using var unbounded = await Client.GetAsync(await server.UrlAsync("local:///input.png", """{"format":"jpg"}"""));
        var full = (await unbounded.Content.ReadAsByteArrayAsync()).Length;
        using var bounded = await Client.GetAsync(await server.UrlAsync("local:///input.png", $$"""{"format":"jpg","max_bytes":{{full / 3}}}"""));
        Assert.Equal(HttpStatusCode.OK, bounded.StatusCode);
        Assert.True((await bounded.Content.ReadAsByteArrayAsync()).Length <= full / 3);
    }

    [Theory]
    [InlineData("local:///../secret.png")]
    [InlineData("local:///sub/../../secret.png")]
    [InlineData("local:///link.png")]
    [InlineData("local:///outside/secret.png")]
    public async Task A_local_source_cannot_leave_the_local_root(string source)
    {
        using var response = await Client.GetAsync(await server.UrlAsync(source, """{"width":10}"""));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Http_and_stored_image_sources_are_served()
    {
        await using var files = await FileServer.StartAsync();
        var remote = files.Add("photos/dog.png", server.Input);
        using var viaHttp = await Client.GetAsync(await server.UrlAsync(remote.ToString(), """{"width":32}"""));
        Assert.Equal(HttpStatusCode.OK, viaHttp.StatusCode);
        Assert.Equal("inline; filename=\"dog.png\"", viaHttp.Content.Headers.ContentDisposition!.ToString());

        using var upload = await Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(server.Input));
        var id = System.Text.Json.JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        using var stored = await Client.GetAsync(await server.UrlAsync($"iris://{id}", """{"width":32}"""));
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        using var image = Image.NewFromBuffer(await stored.Content.ReadAsByteArrayAsync());
        Assert.Equal(32, image.Width);
    }

    [Fact]
    public async Task A_missing_local_file_answers_404()
    {
        using var response = await Client.GetAsync(await server.UrlAsync("local:///nope.png", """{"width":10}"""));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("local:///huge.png", "30000")]
    [InlineData("local:///notes.png", "not an image")]
    public async Task A_source_iris_will_not_process_answers_422_as_imgproxy_does(string source, string detail)
    {
        using var response = await Client.GetAsync(await server.UrlAsync(source, """{"width":10}"""));
        await TransformApiTests.AssertProblem(response, HttpStatusCode.UnprocessableEntity, detail);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_imgproxy_route()
    {
        var document = System.Text.Json.JsonDocument.Parse(await Client.GetStringAsync("/openapi/v1.json")).RootElement;
        var get = document.GetProperty("paths").GetProperty("/imgproxy/{path}").GetProperty("get");
        Assert.Equal("Imgproxy", get.GetProperty("operationId").GetString());
        Assert.Contains("imgproxy", get.GetProperty("tags")[0].GetString());
    }
}
