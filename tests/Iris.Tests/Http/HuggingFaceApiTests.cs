using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

public sealed class HuggingFaceApiTests(ReadyIrisHost fixture) : IClassFixture<ReadyIrisHost>
{
    private HttpClient Client => fixture.Host.Client;

    private static MultipartFormDataContent Form(string file)
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(File.ReadAllBytes(Path.Combine(FlowerReference.Folder, file))), "image", file);
        return form;
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Describe_returns_the_reference_beam_search_caption_and_its_tokens()
    {
        var reference = FlowerReference.ForFile("flower-01.png");
        var json = await Json(await Client.PostAsync("/v1/describe?num_beams=3&max_new_tokens=32&tokens=true", Form("flower-01.png")));
        Assert.Equal("flower-captioner-tiny", json.GetProperty("model").GetString());
        Assert.Equal(reference.Beam3.Text, json.GetProperty("description").GetString());
        Assert.Equal(FlowerReference.Trim(reference.Beam3.Ids, 0), json.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.True(json.GetProperty("timings_ms").GetProperty("decoder_steps").GetInt32() > 0);
    }

    [Fact]
    public async Task Describe_defaults_to_greedy_from_generation_config_and_omits_tokens()
    {
        var json = await Json(await Client.PostAsync("/v1/describe", Form("flower-01.png")));
        Assert.Equal(FlowerReference.ForFile("flower-01.png").Greedy.Text, json.GetProperty("description").GetString());
        Assert.False(json.TryGetProperty("tokens", out var tokens) && tokens.ValueKind != JsonValueKind.Null);
        Assert.Equal(1, json.GetProperty("num_beams").GetInt32());
    }

    [Theory]
    [InlineData("num_beams=0", "num_beams")]
    [InlineData("num_beams=abc", "num_beams")]
    [InlineData("max_new_tokens=100000", "max_new_tokens")]
    public async Task Describe_rejects_out_of_range_parameters_with_400_naming_them(string query, string parameter)
    {
        using var response = await Client.PostAsync("/v1/describe?" + query, Form("flower-00.png"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task Describe_with_a_detection_model_is_a_400_wrong_kind_of_model()
    {
        using var response = await Client.PostAsync("/v1/describe?model=yolox-nano", Form("flower-00.png"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'describe'", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Embed_image_is_normalised_and_matches_the_reference()
    {
        var json = await Json(await Client.PostAsync("/v1/embed", Form("flower-03.png")));
        Assert.Equal("clip-tiny", json.GetProperty("model").GetString());
        Assert.Equal(64, json.GetProperty("dimensions").GetInt32());
        var vector = json.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.True(FlowerReference.Cosine(vector, FlowerReference.ForFile("flower-03.png").ClipImageEmbeds) >= 0.9999);
    }

    [Fact]
    public async Task Embed_text_from_json_returns_its_tokens_and_the_reference_embedding()
    {
        var query = FlowerReference.Queries[2];
        var json = await Json(await Client.PostAsJsonAsync("/v1/embed?tokens=true", new { text = query.Text }));
        Assert.Equal("text", json.GetProperty("input").GetString());
        Assert.Equal(query.InputIds, json.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        var vector = json.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.True(FlowerReference.Cosine(vector, query.TextEmbeds) >= 0.9999);
    }

    [Fact]
    public async Task Embed_accepts_a_base64_json_image_too()
    {
        var bytes = File.ReadAllBytes(Path.Combine(FlowerReference.Folder, "flower-03.png"));
        var json = await Json(await Client.PostAsJsonAsync("/v1/embed", new { image = Convert.ToBase64String(bytes) }));
        Assert.Equal("image", json.GetProperty("input").GetString());
    }

    [Theory]
    [InlineData("{\"text\": \"  \"}")]
    [InlineData("{\"text\": 42}")]
    [InlineData("{\"query\": \"red flower\"}")]
    public async Task Embed_without_usable_text_or_image_is_a_400_naming_text(string body)
    {
        using var response = await Client.PostAsync("/v1/embed", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"parameter\":\"text\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Zero_shot_classify_ranks_the_petal_colour_and_scores_sum_to_one()
    {
        // flower-00: "a flower with four purple pointed petals and a brown center."
        var json = await Json(await Client.PostAsync("/v1/classify?model=clip-tiny&labels=red flower,purple flower,yellow flower&prompt_template={}", Form("flower-00.png")));
        var labels = json.GetProperty("labels").EnumerateArray().ToList();
        Assert.Equal("purple flower", labels[0].GetProperty("label").GetString());
        Assert.Equal(1.0, labels.Sum(l => l.GetProperty("score").GetDouble()), 3);
        Assert.Equal("{}", json.GetProperty("prompt_template").GetString());
    }

    [Theory]
    [InlineData("/v1/classify?model=clip-tiny", "labels")]
    [InlineData("/v1/classify?model=clip-tiny&labels=a,b&prompt_template=no+placeholder", "prompt_template")]
    public async Task Zero_shot_classify_without_usable_labels_or_template_is_a_400(string url, string parameter)
    {
        using var response = await Client.PostAsync(url, Form("flower-00.png"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"\"parameter\":\"{parameter}\"", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("prompt_template", "prompt_template")]
    [InlineData("labels", "labels")]
    public async Task A_zero_shot_template_or_label_of_a_megabyte_is_a_400_not_a_gigabyte_prompt(string field, string parameter)
    {
        // 500,000 placeholders × a 1,000-character label would be a 1 GB prompt.
        using var form = Form("flower-00.png");
        form.Add(new StringContent(field == "labels" ? new string('x', 1000) + ",rose" : string.Concat(Enumerable.Repeat("{}", 500_000))), field);
        if (field != "labels") form.Add(new StringContent(new string('x', 100)), "labels");
        using var response = await Client.PostAsync("/v1/classify?model=clip-tiny", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Contains($"\"parameter\":\"{parameter}\"", body);
        Assert.Contains("at most", body);
    }

    [Fact]
    public async Task OpenApi_documents_the_describe_embed_and_zero_shot_routes()
    {
        var document = JsonDocument.Parse(await Client.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths");
        Assert.Equal("Describe", paths.GetProperty("/v1/describe").GetProperty("post").GetProperty("operationId").GetString());
        var classify = paths.GetProperty("/v1/classify").GetProperty("post");
        Assert.Equal("Classify", classify.GetProperty("operationId").GetString());
        Assert.Contains("Zero-shot", classify.GetProperty("description").GetString());
        var embedJson = paths.GetProperty("/v1/embed").GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json");
        Assert.True(embedJson.GetProperty("schema").GetProperty("properties").TryGetProperty("text", out _));
    }
}
