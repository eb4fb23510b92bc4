using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>The skeleton's bad-input matrix, applied to <c>POST /v1/ocr</c>: every case is a 4xx problem+json with an actionable detail.</summary>
public class OcrApiTests(ReadyIrisHost server) : IClassFixture<ReadyIrisHost>
{
    private static byte[] Photo => File.ReadAllBytes(TestPaths.RealImage("ocr-latin.jpg"));

    public static TheoryData<string, int, string> BadInputs() => new()
    {
        { "empty body", 400, "no image" },
        { "zero-byte file", 400, "no image" },
        { "random bytes", 415, "not an image" },
        { "text file named .jpg", 415, "detected from the file's content" },
        { "truncated jpeg", 422, "corrupt or truncated" },
        { "png claiming 60000×60000", 413, "60000×60000" },
        { "body over the size limit", 413, "limit is 20,000,000 bytes" },
        { "missing file field", 400, "'picture'" },
        { "invalid base64", 400, "base64" },
        { "malformed json", 400, "not valid JSON" },
        { "text/plain body", 415, "text/plain" },
        { "min_confidence=abc", 400, "min_confidence" },
        { "min_confidence=7", 400, "min_confidence" },
        { "model=yolo-v99", 400, "ppocr-v4" },
        { "model=yolox-nano", 400, "ocr" },
    };

    private static HttpContent Body(string name)
    {
        ByteArrayContent Raw(byte[] bytes, string type)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
            return content;
        }
        MultipartFormDataContent Form(byte[] bytes, string field = "image", string file = "scan.jpg")
        {
            var form = new MultipartFormDataContent();
            form.Add(new ByteArrayContent(bytes), field, file);
            return form;
        }
        var random = new byte[4096];
        new Random(7).NextBytes(random);
        random[0] = 0;
        var huge = new byte[21_000_000];
        Photo.CopyTo(huge, 0);
        return name switch
        {
            "empty body" => new ByteArrayContent([]),
            "zero-byte file" => Form([]),
            "random bytes" => Raw(random, "application/octet-stream"),
            "text file named .jpg" => Form(Encoding.UTF8.GetBytes("this is not a scan\n"), file: "receipt.jpg"),
            "truncated jpeg" => Raw(Photo[..(Photo.Length / 3)], "image/jpeg"),
            "png claiming 60000×60000" => Raw(TestImages.PngWithDeclaredSize(60_000, 60_000), "image/png"),
            "body over the size limit" => Raw(huge, "image/jpeg"),
            "missing file field" => Form(Photo, field: "picture"),
            "invalid base64" => Raw(Encoding.UTF8.GetBytes("{\"image\": \"***not base64***\"}"), "application/json"),
            "malformed json" => Raw(Encoding.UTF8.GetBytes("{\"image\": "), "application/json"),
            "text/plain body" => Raw(Encoding.UTF8.GetBytes("hello"), "text/plain"),
            _ => Raw(Photo, "image/jpeg"),
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_is_a_4xx_problem_with_an_actionable_detail(string input, int status, string detailContains)
    {
        var query = input.Contains('=') ? "?" + input : "";
        using var response = await server.Host.Client.PostAsync("/v1/ocr" + query, Body(input));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{input}: expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("request_id").GetString()));
        if (input.StartsWith("min_confidence", StringComparison.Ordinal))
            Assert.Equal("min_confidence", problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task Parameters_may_come_as_form_fields()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Photo), "image", "scan.jpg");
        form.Add(new StringContent("1"), "min_confidence");
        using var response = await server.Host.Client.PostAsync("/v1/ocr", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(JsonDocument.Parse(body).RootElement.GetProperty("lines").EnumerateArray());
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3000, 2)]
    [InlineData(2, 3000)]
    [InlineData(640, 480)]
    public async Task Images_without_text_of_any_shape_read_as_no_text(int width, int height)
    {
        using var blank = NetVips.Image.Black(width, height, bands: 3) + 255;
        var content = new ByteArrayContent(blank.Cast(NetVips.Enums.BandFormat.Uchar).WriteToBuffer(".png"));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await server.Host.Client.PostAsync("/v1/ocr", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal("", root.GetProperty("text").GetString());
        Assert.Equal((width, height), (root.GetProperty("width").GetInt32(), root.GetProperty("height").GetInt32()));
    }

    [Fact]
    public async Task Enabling_ppocr_v4_loads_it_at_start_up_and_readiness_waits_for_it()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Models:Enabled"] = "ppocr-v4" });
        await host.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
        var model = JsonDocument.Parse(await host.Client.GetStringAsync("/v1/models/ppocr-v4")).RootElement;
        Assert.Equal("ready", model.GetProperty("state").GetString());
        Assert.Equal("ocr", model.GetProperty("task").GetString());
    }

    [Fact]
    public async Task OpenApi_document_describes_ocr()
    {
        var document = await server.Host.Client.GetStringAsync("/openapi/v1.json");
        using var json = JsonDocument.Parse(document);
        var operation = json.RootElement.GetProperty("paths").GetProperty("/v1/ocr").GetProperty("post");
        Assert.Contains("min_confidence", operation.GetProperty("description").GetString());
    }
}
