using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Facades;

/// <summary>
/// The flower captioning service's REST contract (seed 000), replayed as its own test suite (test_main.py) and its
/// clients send it, against the real server: the same caption as /v1/describe, and its status codes for bad input.
/// </summary>
public sealed class CaptionServiceFacadeTests(ReadyIrisHost fixture) : IClassFixture<ReadyIrisHost>
{
    private HttpClient Client => fixture.Host.Client;

    private static byte[] Flower(int n) => File.ReadAllBytes(Path.Combine(TestPaths.Flowers, $"flower-{n:00}.png"));

    private static MultipartFormDataContent FilePart(byte[] bytes, string fileName, string contentType)
    {
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return new MultipartFormDataContent { { part, "image", fileName } };
    }

    private async Task<string> IrisCaptionAsync(byte[] image)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "flower.png" } };
        using var response = await Client.PostAsync("/v1/describe", form);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("description").GetString()!;
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Uploaded_file_is_answered_with_only_its_description_the_same_caption_as_v1_describe()
    {
        // test_describe_file_success: files={"image": ("flower.png", f, "image/png")}
        using var response = await Client.PostAsync("/api/v1/describe/file", FilePart(Flower(3), "flower.png", "image/png"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["description"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(await IrisCaptionAsync(Flower(3)), body.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Request_without_a_file_is_422()
    {
        // test_describe_file_no_file: client.post("/api/v1/describe/file")
        using var bare = await Client.PostAsync("/api/v1/describe/file", null);
        Assert.Contains("image", (await ProblemAsync(bare, HttpStatusCode.UnprocessableEntity)).GetProperty("detail").GetString());
        using var otherField = new MultipartFormDataContent { { new ByteArrayContent(Flower(3)), "file", "flower.png" } };
        using var wrongField = await Client.PostAsync("/api/v1/describe/file", otherField);
        await ProblemAsync(wrongField, HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task Text_file_is_400_invalid_file_type()
    {
        // test_describe_file_wrong_file_type: files={"image": ("test.txt", b"this is not an image", "text/plain")}
        using var response = await Client.PostAsync("/api/v1/describe/file", FilePart("this is not an image"u8.ToArray(), "test.txt", "text/plain"));
        Assert.Contains("Invalid file type", (await ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Bytes_that_are_not_an_image_are_400_invalid_file_type_whatever_their_declared_type()
    {
        using var response = await Client.PostAsync("/api/v1/describe/file", FilePart("this is not an image"u8.ToArray(), "fake.png", "image/png"));
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("Invalid file type", problem.GetProperty("detail").GetString());
        Assert.Equal("image", problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task Data_url_is_answered_with_only_its_description()
    {
        // test_describe_dataurl_success: json={"data_url": f"data:image/png;base64,{b64_data}"}
        var dataUrl = "data:image/png;base64," + Convert.ToBase64String(Flower(5));
        using var response = await Client.PostAsJsonAsync("/api/v1/describe/dataurl", new { data_url = dataUrl });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["description"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(await IrisCaptionAsync(Flower(5)), body.GetProperty("description").GetString());
    }

    [Theory]
    [InlineData("{}", "data_url")]                        // test_describe_dataurl_no_data
    [InlineData("""{"data_url": null}""", "data_url")]
    [InlineData("""{"data_url": ""}""", "no image data")]
    [InlineData("""{"data_url": 42}""", "string")]
    [InlineData("not json", "JSON")]
    public async Task Missing_or_unusable_data_url_field_is_422(string body, string detail)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/api/v1/describe/dataurl", content);
        Assert.Contains(detail, (await ProblemAsync(response, HttpStatusCode.UnprocessableEntity)).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("iVBORw0KGgo=", "Invalid data URL format")]                       // no data: header
    [InlineData("data:text/plain;base64,aGVsbG8=", "Invalid data URL format")]    // not an image type
    [InlineData("data:image/png,rawbytes", "Invalid data URL format")]             // not base64
    [InlineData("data:image/png;base64,", "Invalid data URL format")]              // nothing after the comma
    [InlineData("data:image/png;base64,@@not*base64@@", "Invalid Base64 encoding")]
    [InlineData("data:image/png;base64,aGVsbG8gd29ybGQ=", "Invalid file type")]   // base64 of text
    public async Task Malformed_data_url_or_payload_is_400_with_a_clear_detail(string dataUrl, string detail)
    {
        using var response = await Client.PostAsJsonAsync("/api/v1/describe/dataurl", new { data_url = dataUrl });
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
        Assert.Equal("data_url", problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task Data_url_larger_than_the_image_limit_is_413_before_it_is_decoded()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Images:MaxBytes"] = "10000", ["Models:LoadOnStartup"] = "false",
        });
        var dataUrl = "data:image/png;base64," + Convert.ToBase64String(new byte[30_000]);
        using var response = await host.Client.PostAsJsonAsync("/api/v1/describe/dataurl", new { data_url = dataUrl });
        await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Routes_are_described_in_the_openapi_document()
    {
        var paths = (await Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("paths");
        Assert.Equal("CaptionServiceDescribeFile", paths.GetProperty("/api/v1/describe/file").GetProperty("post").GetProperty("operationId").GetString());
        Assert.Equal("CaptionServiceDescribeDataUrl", paths.GetProperty("/api/v1/describe/dataurl").GetProperty("post").GetProperty("operationId").GetString());
    }
}
