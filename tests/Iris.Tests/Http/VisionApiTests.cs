using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>/v1/classify, /v1/faces, /v1/info and /v1/analyze on the real server.</summary>
public class VisionApiTests(ReadyIrisHost server) : IClassFixture<ReadyIrisHost>
{
    private HttpClient Client => server.Host.Client;

    private static ByteArrayContent Raw(byte[] bytes, string contentType = "application/octet-stream")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static ByteArrayContent RealImage(string name) => Raw(File.ReadAllBytes(TestPaths.RealImage(name)), "image/jpeg");
    private static ByteArrayContent Flower(int index) => Raw(File.ReadAllBytes(Path.Combine(TestPaths.Flowers, $"flower-{index:00}.png")), "image/png");

    private async Task<JsonElement> PostOk(string path, HttpContent content)
    {
        using var response = await Client.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<JsonElement> PostProblem(string path, HttpContent content, HttpStatusCode status, string detailContains)
    {
        using var response = await Client.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{path}: expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        return problem;
    }

    [Fact]
    public async Task Classify_returns_top_k_predictions_with_labels_class_indices_and_confidences()
    {
        var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Flowers, "petal-color-reference.json"))).RootElement;
        var logits = reference.GetProperty("logits")[2].EnumerateArray().Select(e => e.GetSingle()).ToList();
        var expected = logits.IndexOf(logits.Max());

        var result = await PostOk("/v1/classify?model=petal-color&top_k=3", Flower(2));
        Assert.Equal("petal-color", result.GetProperty("model").GetString());
        var predictions = result.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(3, predictions.Count);
        Assert.Equal(expected, predictions[0].GetProperty("class_index").GetInt32());
        Assert.Equal(reference.GetProperty("labels")[expected].GetString(), predictions[0].GetProperty("label").GetString());
        var confidences = predictions.Select(p => p.GetProperty("confidence").GetSingle()).ToList();
        Assert.Equal(confidences.OrderDescending(), confidences);
        Assert.True(result.GetProperty("timings_ms").GetProperty("inference").GetDouble() >= 0);
    }

    [Fact]
    public async Task Classify_defaults_to_five_predictions_and_min_confidence_drops_the_unlikely()
    {
        var all = await PostOk("/v1/classify", Flower(1));
        Assert.Equal(5, all.GetProperty("predictions").GetArrayLength());
        var confident = await PostOk("/v1/classify?min_confidence=0.5", Flower(1));
        Assert.Equal("white", Assert.Single(confident.GetProperty("predictions").EnumerateArray()).GetProperty("label").GetString());
    }

    [Theory]
    [InlineData("/v1/classify?top_k=0", "top_k must be between 1 and 1000")]
    [InlineData("/v1/classify?min_confidence=2", "min_confidence must be between 0 and 1")]
    [InlineData("/v1/classify?model=nope", "no model named 'nope'")]
    [InlineData("/v1/classify?model=yolox-nano", "needs a 'classify' model")]
    [InlineData("/v1/faces?model=petal-color", "needs a 'faces' model")]
    [InlineData("/v1/faces?max_faces=abc", "max_faces must be a whole number")]
    [InlineData("/v1/info?include_gps=maybe", "include_gps must be true or false")]
    [InlineData("/v1/analyze?tasks=detect,colours,ocr2", "Unknown tasks 'colours', 'ocr2' in tasks. Valid tasks: classify, describe, detect, faces, info, moderate, ocr.")]
    [InlineData("/v1/analyze?tasks=classify&classify_top_k=-1", "classify_top_k must be between 1 and 1000")]
    [InlineData("/v1/analyze?tasks=faces&faces_model=yolox-nano", "needs a 'faces' model")]
    [InlineData("/v1/analyze?tasks=detect&classify_top_k=abc", "classify_top_k must be a whole number between 1 and 1000; got 'abc'.")]
    [InlineData("/v1/analyze?tasks=detect&describe_num_beams=99", "describe_num_beams must be between 1 and")]
    public async Task Bad_parameters_are_400_with_what_to_change(string path, string detail)
    {
        var problem = await PostProblem(path, Flower(0), HttpStatusCode.BadRequest, detail);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("request_id").GetString()));
    }

    [Fact]
    public async Task Unknown_analyze_task_names_the_parameter()
    {
        var problem = await PostProblem("/v1/analyze?tasks=sharpen", Flower(0), HttpStatusCode.BadRequest, "Valid tasks:");
        Assert.Equal("tasks", problem.GetProperty("parameter").GetString());
    }

    [Theory]
    [InlineData("ultraface-rfb-320")]
    [InlineData("ultraface-rfb-640")]
    public async Task Faces_finds_the_five_faces_of_faces_19_in_image_pixels(string model)
    {
        var result = await PostOk($"/v1/faces?model={model}", RealImage("faces-19.jpg"));
        Assert.Equal(model, result.GetProperty("model").GetString());
        var faces = result.GetProperty("faces").EnumerateArray().ToList();
        Assert.Equal(5, faces.Count);
        var width = result.GetProperty("width").GetInt32();
        Assert.All(faces, f =>
        {
            Assert.InRange(f.GetProperty("confidence").GetSingle(), 0.7f, 1f);
            Assert.InRange(f.GetProperty("box").GetProperty("x_max").GetSingle(), 1, width);
        });
    }

    [Fact]
    public async Task Info_describes_a_camera_jpeg()
    {
        var info = await PostOk("/v1/info", RealImage("dog.jpg"));
        Assert.Equal("jpeg", info.GetProperty("format").GetString());
        Assert.Equal((768, 576), (info.GetProperty("width").GetInt32(), info.GetProperty("height").GetInt32()));
        Assert.Equal(new FileInfo(TestPaths.RealImage("dog.jpg")).Length, info.GetProperty("file_bytes").GetInt64());
        Assert.Equal("Canon", info.GetProperty("exif").GetProperty("make").GetString());
        Assert.Equal(5, info.GetProperty("dominant_colors").GetArrayLength());
        Assert.Equal(1.0, info.GetProperty("dominant_colors").EnumerateArray().Sum(c => c.GetProperty("share").GetDouble()), 2);
        Assert.False(info.GetProperty("sharpness").GetProperty("blurry").GetBoolean());
        Assert.Matches("^[0-9a-f]{16}$", info.GetProperty("dhash").GetString());
    }

    [Fact]
    public async Task Analyze_returns_a_section_per_task_shaped_like_each_route_and_timings()
    {
        var result = await PostOk("/v1/analyze?tasks=detect,faces,classify,info&detect_min_confidence=0.3", RealImage("faces-13.jpg"));
        Assert.Equal(["detect", "faces", "classify", "info"], result.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal(2, result.GetProperty("detect").GetProperty("objects").EnumerateArray().Count(o => o.GetProperty("label").GetString() == "person"));
        Assert.Equal(2, result.GetProperty("faces").GetProperty("faces").GetArrayLength());
        Assert.Equal("petal-color", result.GetProperty("classify").GetProperty("model").GetString());
        Assert.Equal(450, result.GetProperty("info").GetProperty("width").GetInt32());
        var timings = result.GetProperty("timings_ms");
        foreach (var key in new[] { "decode", "detect", "faces", "classify", "info", "total" })
            Assert.True(timings.TryGetProperty(key, out _), key);

        var single = await PostOk("/v1/faces", RealImage("faces-13.jpg"));
        Assert.Equal(single.GetProperty("faces").ToString(), result.GetProperty("faces").GetProperty("faces").ToString());
    }

    [Fact]
    public async Task Analyze_runs_ocr_with_detection_on_one_decode_and_reads_the_same_text_as_the_ocr_route()
    {
        var result = await PostOk("/v1/analyze?tasks=ocr,detect", RealImage("ocr-care-label.jpg"));
        Assert.Equal(["ocr", "detect"], result.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Contains("TRICHLOROETHYLENE", result.GetProperty("ocr").GetProperty("text").GetString());
        var single = await PostOk("/v1/ocr", RealImage("ocr-care-label.jpg"));
        Assert.Equal(single.GetProperty("text").GetString(), result.GetProperty("ocr").GetProperty("text").GetString());
    }

    [Fact]
    public async Task Analyze_describes_and_classifies_a_flower_in_one_call_like_the_single_routes()
    {
        var result = await PostOk("/v1/analyze?tasks=describe,classify", Raw(File.ReadAllBytes(Path.Combine(TestPaths.Flowers, "flower-03.png")), "image/png"));
        var single = await PostOk("/v1/describe", Raw(File.ReadAllBytes(Path.Combine(TestPaths.Flowers, "flower-03.png")), "image/png"));
        Assert.Equal(single.GetProperty("description").GetString(), result.GetProperty("describe").GetProperty("description").GetString());
        Assert.Equal("petal-color", result.GetProperty("classify").GetProperty("model").GetString());
    }

    [Fact]
    public async Task Analyze_without_tasks_runs_the_default_tasks_and_takes_them_from_form_fields_too()
    {
        var defaults = await PostOk("/v1/analyze", RealImage("dog.jpg"));
        Assert.Equal(["detect", "faces", "info"], defaults.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()!).ToArray());

        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(File.ReadAllBytes(Path.Combine(TestPaths.Flowers, "flower-05.png"))), "image", "f.png");
        form.Add(new StringContent("classify"), "tasks");
        form.Add(new StringContent("1"), "classify_top_k");
        var classified = await PostOk("/v1/analyze", form);
        Assert.Equal(["classify"], classified.GetProperty("tasks").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal(1, classified.GetProperty("classify").GetProperty("predictions").GetArrayLength());
        Assert.False(classified.TryGetProperty("detect", out _));
    }

    [Fact]
    public async Task OpenApi_document_describes_the_new_routes_with_their_responses()
    {
        var document = await Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        foreach (var (path, schemaProperty) in new[] { ("/v1/classify", "predictions"), ("/v1/faces", "faces"), ("/v1/info", "dominant_colors"), ("/v1/analyze", "tasks") })
        {
            var post = document.GetProperty("paths").GetProperty(path).GetProperty("post");
            Assert.False(string.IsNullOrEmpty(post.GetProperty("summary").GetString()));
            Assert.True(post.GetProperty("responses").TryGetProperty("400", out _), path);
            Assert.Contains(schemaProperty, document.GetProperty("components").ToString());
        }
    }

    // ---- The skeleton's bad-input matrix, on every new route. ----

    public static TheoryData<string> Routes() => new() { "/v1/classify", "/v1/faces", "/v1/info", "/v1/analyze?tasks=detect,faces,classify,info" };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Empty_body_is_400(string route) =>
        await PostProblem(route, new ByteArrayContent([]), HttpStatusCode.BadRequest, "no image");

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Random_bytes_are_415(string route)
    {
        var random = new byte[4096];
        new Random(11).NextBytes(random);
        random[0] = 0;
        await PostProblem(route, Raw(random), HttpStatusCode.UnsupportedMediaType, "not an image");
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Truncated_jpeg_is_422(string route)
    {
        var dog = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        await PostProblem(route, Raw(dog[..(dog.Length / 3)], "image/jpeg"), HttpStatusCode.UnprocessableEntity, "corrupt or truncated");
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Decompression_bomb_header_is_413(string route) =>
        await PostProblem(route, Raw(TestImages.PngWithDeclaredSize(60_000, 60_000), "image/png"), HttpStatusCode.RequestEntityTooLarge, "60000×60000");

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Malformed_base64_json_is_400(string route)
    {
        using var response = await Client.PostAsJsonAsync(route, new { image = "%%%not base64%%%" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid base64", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Text_content_type_is_415(string route) =>
        await PostProblem(route, Raw("hello"u8.ToArray(), "text/plain"), HttpStatusCode.UnsupportedMediaType, "cannot carry an image");
}
