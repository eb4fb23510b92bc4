using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Core.Imaging;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Http;

public class TransformApiTests(TransformHost server) : IClassFixture<TransformHost>
{
    private HttpClient Client => server.Host.Client;
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

    internal static ByteArrayContent Raw(byte[] bytes, string contentType = "application/octet-stream")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    internal static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detailContains, string? parameter = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        if (parameter is not null)
            Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
        return problem;
    }

    [Fact]
    public async Task Transforms_the_example_pipeline_and_answers_the_image_with_its_headers()
    {
        using var response = await Client.PostAsync("/v1/transform?ops=resize:w=300,h=200,fit=cover;sharpen:sigma=1;format:webp,q=80", Raw(Dog, "image/jpeg"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/webp", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.Equal(ImageFormat.WebP, ImageFormatSniffer.Sniff(bytes));
        Assert.True(response.Headers.ETag is { IsWeak: false });
        using var image = Image.NewFromBuffer(bytes);
        Assert.Equal((300, 200), (image.Width, image.Height));
        Assert.Equal("300", response.Headers.GetValues("X-Image-Width").Single());
    }

    [Fact]
    public async Task Accepts_json_with_the_pipeline_as_an_array_of_operations()
    {
        using var response = await Client.PostAsJsonAsync("/v1/transform", new
        {
            image = Convert.ToBase64String(Dog),
            ops = new object[] { new { op = "resize", w = 100 }, new { op = "format", type = "png" } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        using var image = Image.NewFromBuffer(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(100, image.Width);
    }

    [Fact]
    public async Task Accepts_ops_as_a_multipart_form_field()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Dog), "image", "dog.jpg");
        form.Add(new StringContent("grayscale;format:png"), "ops");
        using var response = await Client.PostAsync("/v1/transform", form);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        using var image = Image.NewFromBuffer(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, image.Bands);
    }

    [Fact]
    public async Task The_same_request_gets_the_same_strong_etag_and_304_when_the_client_has_it()
    {
        using var first = await Client.PostAsync("/v1/transform?ops=resize:w=120", Raw(Dog));
        var etag = first.Headers.ETag!;
        using var second = await Client.PostAsync("/v1/transform?ops=resize:w=120", Raw(Dog));
        Assert.Equal(etag.Tag, second.Headers.ETag!.Tag);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/transform?ops=resize:w=120") { Content = Raw(Dog) };
        request.Headers.IfNoneMatch.Add(etag);
        using var notModified = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var different = await Client.PostAsync("/v1/transform?ops=resize:w=121", Raw(Dog));
        Assert.NotEqual(etag.Tag, different.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Format_auto_negotiates_from_accept_and_varies_on_it()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/transform?ops=resize:w=64;format:auto") { Content = Raw(Dog) };
        request.Headers.Accept.ParseAdd("image/webp,image/*;q=0.8");
        using var response = await Client.SendAsync(request);
        Assert.Equal("image/webp", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", response.Headers.Vary);
    }

    [Theory]
    [InlineData("resize:w=0", "resize.w", "between 1 and 100000")]
    [InlineData("resize:w=300,fit=squash", "resize.fit", "inside, contain, cover")]
    [InlineData("sharpen:sigma=99", "sharpen.sigma", "between 0.1 and 10")]
    [InlineData("format:webp,q=0", "format.q", "between 1 and 100")]
    [InlineData("explode", "ops", "Unknown operation")]
    [InlineData("resize:w=100000,h=100000,fit=fill,enlarge=true", "resize", "Transforms:MaxOutputPixels")]
    [InlineData("crop:x=5000,y=0,w=10,h=10", "crop.x", "outside the 768×576 image")]
    public async Task Invalid_parameters_are_400_naming_the_parameter_and_the_range(string ops, string parameter, string detail)
    {
        using var response = await Client.PostAsync($"/v1/transform?ops={Uri.EscapeDataString(ops)}", Raw(Dog));
        await AssertProblem(response, HttpStatusCode.BadRequest, detail, parameter);
    }

    [Fact]
    public async Task A_pipeline_past_the_length_limit_is_400()
    {
        var ops = string.Join(";", Enumerable.Repeat("flip", 17));
        using var response = await Client.PostAsync($"/v1/transform?ops={ops}", Raw(Dog));
        await AssertProblem(response, HttpStatusCode.BadRequest, "Transforms:MaxPipelineLength", "ops");
    }

    [Fact]
    public async Task An_output_format_the_bundled_libvips_cannot_write_is_400_naming_what_it_can()
    {
        if (Iris.Core.Transforms.OutputFormats.IsSupported(ImageFormat.Heif)) return;
        using var response = await Client.PostAsync("/v1/transform?ops=format:heif", Raw(Dog));
        await AssertProblem(response, HttpStatusCode.BadRequest, "cannot write HEIF", "format");
    }

    public static TheoryData<string, byte[], HttpStatusCode, string> BadInputs()
    {
        var dog = Dog;
        var random = new byte[4096];
        new Random(7).NextBytes(random);
        return new()
        {
            { "empty", [], HttpStatusCode.BadRequest, "no image data" },
            { "random bytes", random, HttpStatusCode.UnsupportedMediaType, "not an image" },
            { "truncated jpeg", dog[..(dog.Length / 3)], HttpStatusCode.UnprocessableEntity, "corrupt" },
            { "16000×16000 bomb header", TestImages.PngWithDeclaredSize(16000, 16000), HttpStatusCode.RequestEntityTooLarge, "Images:MaxPixels" },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_matrix(string name, byte[] body, HttpStatusCode status, string detail)
    {
        foreach (var ops in new[] { "flip", "resize:w=100" })
        {
            using var response = await Client.PostAsync($"/v1/transform?ops={ops}", Raw(body));
            await AssertProblem(response, status, detail);
            Assert.False(string.IsNullOrEmpty(name));
        }
    }

    [Fact]
    public async Task Oversize_bodies_are_413()
    {
        await using var small = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Images:MaxBytes"] = "10000", ["Models:LoadOnStartup"] = "false" });
        using var response = await small.Client.PostAsync("/v1/transform?ops=flip", Raw(Dog));
        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "Images:MaxBytes");
    }

    [Fact]
    public async Task A_real_16000_by_16000_jpeg_is_refused_from_its_header_with_413()
    {
        // A genuine 256-megapixel JPEG (tiny, since it is one flat colour), not just a forged header.
        byte[] jpeg;
        using (var black = Image.Black(16000, 16000))
            jpeg = black.JpegsaveBuffer(q: 10);
        Assert.True(jpeg.Length < 20_000_000);
        foreach (var ops in new[] { "resize:w=100", "flip" })
        {
            using var response = await Client.PostAsync($"/v1/transform?ops={ops}", Raw(jpeg));
            await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "16000×16000");
        }
    }

    [Fact]
    public async Task A_one_pixel_image_is_transformed()
    {
        using var one = (Image.Black(1, 1, bands: 3) + 200).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        using var response = await Client.PostAsync("/v1/transform?ops=resize:w=50,enlarge=true;format:png", Raw(one.PngsaveBuffer()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var image = Image.NewFromBuffer(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((50, 50), (image.Width, image.Height));
        Assert.Equal(200, image.Getpoint(25, 25)[0], 1.0);
    }

    [Fact]
    public async Task OpenApi_document_describes_every_transform_route()
    {
        var paths = (await Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");
        foreach (var path in new[] { "/v1/transform", "/v1/img/{signature}/{ops}/{source}", "/api/v1/upload", "/api/v1/resize", "/api/v1/crop",
                     "/api/v1/filter", "/api/v1/enhance", "/api/v1/batch" })
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            var operation = item.EnumerateObject().First().Value;
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()));
        }
        var transform = paths.GetProperty("/v1/transform").GetProperty("post");
        Assert.True(transform.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("image/webp", out _));
        Assert.Contains("resize:w=800", transform.GetProperty("description").GetString());
    }
}
