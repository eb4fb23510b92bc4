using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

public class DetectApiTests(ReadyIrisHost server) : IClassFixture<ReadyIrisHost>
{
    private HttpClient Client => server.Host.Client;
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

    private static ByteArrayContent Raw(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static MultipartFormDataContent Form(byte[] bytes, string field = "image", string fileName = "photo.jpg")
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(bytes), field, fileName);
        return form;
    }

    private static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("request_id").GetString()));
        return problem;
    }

    [Fact]
    public async Task Accepts_multipart_with_the_file_field_name_too()
    {
        using var response = await Client.PostAsync("/v1/detect", Form(Dog, "file"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Accepts_json_with_base64_and_data_uris()
    {
        foreach (var image in new[] { Convert.ToBase64String(Dog), "data:image/jpeg;base64," + Convert.ToBase64String(Dog) })
        {
            using var response = await Client.PostAsJsonAsync("/v1/detect?min_confidence=0.5", new { image });
            var result = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains(result.GetProperty("objects").EnumerateArray(), o => o.GetProperty("label").GetString() == "dog");
        }
    }

    [Fact]
    public async Task Detects_the_format_from_the_bytes_not_the_declared_content_type()
    {
        using var png = TestImages.Pattern(200, 100);
        using var response = await Client.PostAsync("/v1/detect", Raw(TestImages.Encode(png, ".png"), "image/jpeg"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Max_detections_caps_the_number_of_objects()
    {
        using var response = await Client.PostAsync("/v1/detect?min_confidence=0.1&max_detections=2", Raw(Dog, "image/jpeg"));
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, result.GetProperty("objects").GetArrayLength());
    }

    [Fact]
    public async Task Parameters_may_come_as_form_fields()
    {
        using var form = Form(Dog);
        form.Add(new StringContent("0.99"), "min_confidence");
        using var response = await Client.PostAsync("/v1/detect", form);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, result.GetProperty("objects").GetArrayLength());
    }

    // ---- The bad-input matrix: every case is a 4xx problem+json with an actionable detail, never a 5xx. ----

    [Fact]
    public async Task Empty_body_is_400()
    {
        using var response = await Client.PostAsync("/v1/detect", new ByteArrayContent([]));
        await AssertProblem(response, HttpStatusCode.BadRequest, "no image");
    }

    [Fact]
    public async Task Zero_byte_file_is_400()
    {
        using var response = await Client.PostAsync("/v1/detect", Form([]));
        await AssertProblem(response, HttpStatusCode.BadRequest, "no image");
    }

    [Fact]
    public async Task Random_bytes_are_415()
    {
        var random = new byte[4096];
        new Random(7).NextBytes(random);
        random[0] = 0x00;
        using var response = await Client.PostAsync("/v1/detect", Raw(random, "application/octet-stream"));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "not an image");
    }

    [Fact]
    public async Task Text_file_named_jpg_is_415()
    {
        using var response = await Client.PostAsync("/v1/detect", Form(Encoding.UTF8.GetBytes("this is not a photo\n"), fileName: "holiday.jpg"));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "detected from the file's content");
    }

    [Fact]
    public async Task Truncated_jpeg_is_422()
    {
        using var response = await Client.PostAsync("/v1/detect", Raw(Dog[..(Dog.Length / 3)], "image/jpeg"));
        await AssertProblem(response, HttpStatusCode.UnprocessableEntity, "corrupt or truncated");
    }

    [Fact]
    public async Task Png_claiming_60000_by_60000_is_413()
    {
        using var response = await Client.PostAsync("/v1/detect", Raw(TestImages.PngWithDeclaredSize(60_000, 60_000), "image/png"));
        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "60000×60000");
    }

    [Fact]
    public async Task Body_over_the_size_limit_is_413()
    {
        var huge = new byte[21_000_000];
        Dog.CopyTo(huge, 0);
        using var response = await Client.PostAsync("/v1/detect", Raw(huge, "image/jpeg"));
        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "limit is 20,000,000 bytes");
    }

    [Fact]
    public async Task Multipart_file_over_the_size_limit_is_413()
    {
        var huge = new byte[21_000_000];
        Dog.CopyTo(huge, 0);
        using var response = await Client.PostAsync("/v1/detect", Form(huge));
        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "limit");
    }

    [Theory]
    [InlineData("min_confidence=abc", "min_confidence")]
    [InlineData("min_confidence=7", "min_confidence")]
    [InlineData("min_confidence=NaN", "min_confidence")]
    [InlineData("max_detections=0", "max_detections")]
    [InlineData("max_detections=lots", "max_detections")]
    public async Task Out_of_range_or_unparseable_parameters_are_400_naming_the_parameter(string query, string parameter)
    {
        using var response = await Client.PostAsync("/v1/detect?" + query, Raw(Dog, "image/jpeg"));
        var problem = await AssertProblem(response, HttpStatusCode.BadRequest, parameter);
        Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task Missing_file_field_is_400_naming_the_fields_that_were_sent()
    {
        using var form = Form(Dog, field: "picture");
        using var response = await Client.PostAsync("/v1/detect", form);
        await AssertProblem(response, HttpStatusCode.BadRequest, "'picture'");
    }

    [Fact]
    public async Task Invalid_base64_is_400()
    {
        using var response = await Client.PostAsJsonAsync("/v1/detect", new { image = "***not base64***" });
        await AssertProblem(response, HttpStatusCode.BadRequest, "base64");
    }

    [Fact]
    public async Task Malformed_json_is_400()
    {
        using var response = await Client.PostAsync("/v1/detect", Raw(Encoding.UTF8.GetBytes("{\"image\": "), "application/json"));
        await AssertProblem(response, HttpStatusCode.BadRequest, "not valid JSON");
    }

    [Fact]
    public async Task Non_image_content_type_is_415()
    {
        using var response = await Client.PostAsync("/v1/detect", Raw(Encoding.UTF8.GetBytes("hello"), "text/plain"));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "text/plain");
    }

    [Fact]
    public async Task Unknown_model_is_400_listing_the_known_ones()
    {
        using var response = await Client.PostAsync("/v1/detect?model=yolo-v99", Raw(Dog, "image/jpeg"));
        await AssertProblem(response, HttpStatusCode.BadRequest, "yolox-nano");
    }

    [Fact]
    public async Task A_model_of_another_task_is_400()
    {
        using var response = await Client.PostAsync("/v1/detect?model=petal-color", Raw(Dog, "image/jpeg"));
        await AssertProblem(response, HttpStatusCode.BadRequest, "'classify' model");
    }

    [Fact]
    public async Task Unknown_route_is_a_404_problem()
    {
        using var response = await Client.GetAsync("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Request_id_is_echoed_when_sent_and_generated_otherwise()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("X-Request-Id", "client-chosen-id-42");
        using var echoed = await Client.SendAsync(request);
        Assert.Equal("client-chosen-id-42", echoed.Headers.GetValues("X-Request-Id").Single());

        using var generated = await Client.GetAsync("/healthz");
        Assert.Matches("^[0-9a-f]{32}$", generated.Headers.GetValues("X-Request-Id").Single());
    }

    [Fact]
    public async Task Request_id_with_unsafe_characters_is_replaced()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.TryAddWithoutValidation("X-Request-Id", "bad id\"<script>");
        using var response = await Client.SendAsync(request);
        Assert.Matches("^[0-9a-f]{32}$", response.Headers.GetValues("X-Request-Id").Single());
    }

    [Fact]
    public async Task OpenApi_document_describes_detect_and_the_docs_page_is_served()
    {
        var document = await Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var detect = document.GetProperty("paths").GetProperty("/v1/detect").GetProperty("post");
        var parameters = detect.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Equal(["model", "min_confidence", "max_detections"], parameters);
        Assert.True(detect.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
        using var docs = await Client.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Contains("text/html", docs.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task Models_endpoint_lists_every_catalog_model_with_its_state()
    {
        var models = await Client.GetFromJsonAsync<JsonElement>("/v1/models");
        var names = models.EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Contains("yolox-nano", names);
        Assert.Contains("ppocr-v4", names);
        var yolox = models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "yolox-nano");
        Assert.Equal("ready", yolox.GetProperty("state").GetString());
    }
}
