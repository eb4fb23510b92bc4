using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>
/// The DeepStack / CodeProject.AI vision routes, called the way their clients call them (Frigate's deepstack detector
/// posts multipart `image` plus an `api_key` form field and reads `predictions` in confidence order).
/// </summary>
public sealed class DeepStackApiTests(ReadyIrisHost fixture) : IClassFixture<ReadyIrisHost>
{
    private HttpClient Client => fixture.Host.Client;

    private static MultipartFormDataContent Form(string file, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(TestPaths.RealImage(file))), "image", file } };
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        return form;
    }

    private async Task<JsonElement> PostAsync(string path, HttpContent content)
    {
        using var response = await Client.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Detection_answers_deepstack_predictions_in_whole_pixels_sorted_by_confidence()
    {
        var json = await PostAsync("/v1/vision/detection", Form("dog.jpg", ("api_key", "ignored")));
        Assert.True(json.GetProperty("success").GetBoolean());
        var predictions = json.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(predictions.Count, json.GetProperty("count").GetInt32());
        Assert.Contains(predictions, p => p.GetProperty("label").GetString() == "dog");
        Assert.Contains(predictions, p => p.GetProperty("label").GetString() == "bicycle");
        var confidences = predictions.Select(p => p.GetProperty("confidence").GetSingle()).ToList();
        Assert.Equal(confidences.OrderByDescending(c => c), confidences);
        Assert.All(predictions, p =>
        {
            Assert.True(p.GetProperty("confidence").GetSingle() >= 0.4f);
            Assert.Equal(JsonValueKind.Number, p.GetProperty("x_min").ValueKind);
            Assert.True(p.GetProperty("x_min").TryGetInt32(out var xMin) && p.GetProperty("x_max").TryGetInt32(out var xMax) && xMin < xMax && xMax <= 768);
            Assert.True(p.GetProperty("y_min").TryGetInt32(out var yMin) && p.GetProperty("y_max").TryGetInt32(out var yMax) && yMin < yMax && yMax <= 576);
        });
        Assert.StartsWith("Found ", json.GetProperty("message").GetString());
        foreach (var field in new[] { "processMs", "inferenceMs", "analysisRoundTripMs", "moduleId", "requestId", "timestampUTC" })
            Assert.True(json.TryGetProperty(field, out _), $"no {field}");
    }

    [Fact]
    public async Task Detection_boxes_are_those_of_v1_detect_rounded_to_pixels()
    {
        var deepStack = await PostAsync("/v1/vision/detection", Form("dog.jpg", ("min_confidence", "0.5")));
        var native = await PostAsync("/v1/detect?min_confidence=0.5", Form("dog.jpg"));
        var expected = native.GetProperty("objects").EnumerateArray()
            .Select(o => (o.GetProperty("label").GetString(), (int)Math.Round(o.GetProperty("box").GetProperty("x_min").GetDouble())))
            .OrderBy(p => p.Item1).ToList();
        var actual = deepStack.GetProperty("predictions").EnumerateArray()
            .Select(p => (p.GetProperty("label").GetString(), p.GetProperty("x_min").GetInt32())).OrderBy(p => p.Item1).ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Min_confidence_form_field_filters_predictions()
    {
        var all = await PostAsync("/v1/vision/detection", Form("dog.jpg", ("min_confidence", "0.1")));
        var confident = await PostAsync("/v1/vision/detection", Form("dog.jpg", ("min_confidence", "0.9")));
        Assert.True(all.GetProperty("count").GetInt32() > confident.GetProperty("count").GetInt32());
        Assert.All(confident.GetProperty("predictions").EnumerateArray(), p => Assert.True(p.GetProperty("confidence").GetSingle() >= 0.9f));
    }

    [Fact]
    public async Task Face_finds_the_expected_faces_without_labels()
    {
        var json = await PostAsync("/v1/vision/face", Form("faces-19.jpg", ("min_confidence", "0.7")));
        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.Equal(5, json.GetProperty("count").GetInt32());
        Assert.All(json.GetProperty("predictions").EnumerateArray(), p => Assert.False(p.TryGetProperty("label", out _)));
    }

    [Fact]
    public async Task Custom_runs_the_named_detect_model_and_an_unknown_one_is_a_deepstack_style_problem()
    {
        var json = await PostAsync("/v1/vision/custom/yolox-nano", Form("coco-000000001675.jpg"));
        Assert.Contains(json.GetProperty("predictions").EnumerateArray(), p => p.GetProperty("label").GetString() == "cat");
        Assert.Equal("iris-yolox-nano", json.GetProperty("moduleId").GetString());

        using var unknown = await Client.PostAsync("/v1/vision/custom/no-such-model", Form("dog.jpg"));
        // As on /v1/detect?model=…, a model the catalog does not know is a bad request.
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        var problem = await unknown.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(problem.GetProperty("success").GetBoolean());
        Assert.Contains("no-such-model", problem.GetProperty("error").GetString());
        Assert.Equal(400, problem.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Bad_input_is_a_problem_with_success_false_never_a_500()
    {
        using var text = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes("not an image")), "image", "a.txt" } };
        using var notImage = await Client.PostAsync("/v1/vision/detection", text);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notImage.StatusCode);
        Assert.False((await notImage.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("success").GetBoolean());

        using var badConfidence = await Client.PostAsync("/v1/vision/face", Form("faces-2.jpg", ("min_confidence", "2")));
        Assert.Equal(HttpStatusCode.BadRequest, badConfidence.StatusCode);
        var problem = await badConfidence.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("min_confidence", problem.GetProperty("error").GetString());

        // Problems of the native routes keep their plain RFC 7807 shape.
        using var native = await Client.PostAsync("/v1/detect", new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes("x")), "image", "a.txt" } });
        Assert.False((await native.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("success", out _));
    }
}
