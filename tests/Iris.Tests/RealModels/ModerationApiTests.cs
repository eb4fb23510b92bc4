using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Library;
using Iris.Tests.Support;

namespace Iris.Tests.RealModels;

/// <summary>
/// One server whose library indexes with <c>moderate</c>, and whose Sexy threshold (1e-4) is set so that dog.jpg (Sexy ≈ 1e-3)
/// is unsafe and faces-13.jpg (Sexy ≈ 5e-6) is safe: the mirror has no unsafe photo, and needs none to prove the filter.
/// </summary>
public sealed class ModerationHost : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    public IrisTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Library:IndexTasks"] = "embed,moderate",
            ["Moderation:SexyThreshold"] = "0.0001",
            ["Jobs:Workers"] = "1",
            ["Jobs:PollIntervalMs"] = "50",
            ["Storage:Directory"] = Path.Combine(_data.Path, "images"),
            ["Transforms:CacheDirectory"] = Path.Combine(_data.Path, "transform-cache"),
            ["Library:IndexDatabase"] = Path.Combine(_data.Path, "vectors.db"),
        });
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>POST /v1/moderate, the moderate section of /v1/analyze, and the library's safe_only search filter.</summary>
public sealed class ModerationApiTests(ModerationHost server) : IClassFixture<ModerationHost>
{
    private HttpClient Client => server.Host.Client;

    private static ByteArrayContent Photo(string name)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(TestPaths.RealImage(name)));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        return content;
    }

    private async Task<JsonElement> PostOk(string path, HttpContent content)
    {
        using var response = await Client.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Moderate_names_the_model_gives_the_five_class_probabilities_and_judges_by_the_thresholds()
    {
        var result = await PostOk("/v1/moderate?sexy_threshold=0.8", Photo("dog.jpg"));

        Assert.Equal("nsfw-mobilenet-v2", result.GetProperty("model").GetString());
        Assert.True(result.GetProperty("safe").GetBoolean());
        Assert.Empty(result.GetProperty("flagged").EnumerateArray());
        Assert.Equal("Neutral", result.GetProperty("top").GetString());
        var scores = result.GetProperty("scores").EnumerateObject().ToList();
        Assert.Equal(["Drawing", "Hentai", "Neutral", "Porn", "Sexy"], scores.Select(s => s.Name));
        Assert.InRange(scores.Sum(s => s.Value.GetSingle()), 0.999f, 1.001f);
        Assert.Equal(0.5f, result.GetProperty("thresholds").GetProperty("Porn").GetSingle());
        Assert.Equal(0.8f, result.GetProperty("thresholds").GetProperty("Sexy").GetSingle());
    }

    [Fact]
    public async Task A_class_above_its_threshold_is_flagged_and_the_image_is_unsafe()
    {
        // The server's Moderation:SexyThreshold is 1e-4; dog.jpg's Sexy probability is about 1e-3.
        var result = await PostOk("/v1/moderate", Photo("dog.jpg"));

        Assert.False(result.GetProperty("safe").GetBoolean());
        Assert.Equal(["Sexy"], result.GetProperty("flagged").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task Analyze_runs_moderate_as_a_section_that_names_its_model()
    {
        var result = await PostOk("/v1/analyze?tasks=moderate,info&moderate_porn_threshold=0.9", Photo("faces-13.jpg"));

        var section = result.GetProperty("moderate");
        Assert.Equal("nsfw-mobilenet-v2", section.GetProperty("model").GetString());
        Assert.True(section.GetProperty("safe").GetBoolean());
        Assert.Equal(0.9f, section.GetProperty("thresholds").GetProperty("Porn").GetSingle());
    }

    [Fact]
    public async Task A_moderate_job_is_generated_by_the_content_safety_model_and_its_result_holds_the_verdict()
    {
        using var form = new MultipartFormDataContent { { Photo("faces-13.jpg"), "image", "people.jpg" } };
        using var response = await Client.PostAsync("/v1/jobs?tasks=moderate", form);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var deadline = DateTime.UtcNow.AddMinutes(2);
        JsonElement job;
        while ((job = await Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}")).GetProperty("status").GetString() is "queued" or "processing")
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {id} did not finish: {job}");
            await Task.Delay(100);
        }

        Assert.Equal("done", job.GetProperty("status").GetString());
        Assert.Equal("nsfw-mobilenet-v2", job.GetProperty("generated_by")[0].GetProperty("name").GetString());
        var result = await Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/result");
        Assert.True(result.GetProperty("moderate").GetProperty("safe").GetBoolean());
    }

    [Theory]
    [InlineData("/v1/moderate?porn_threshold=2", "porn_threshold must be between 0 and 1")]
    [InlineData("/v1/moderate?model=petal-color", "moderate needs a content-safety classifier")]
    [InlineData("/v1/moderate?model=yolox-nano", "needs a 'classify' model")]
    [InlineData("/v1/analyze?tasks=moderate&moderate_sexy_threshold=x", "moderate_sexy_threshold")]
    public async Task Bad_parameters_are_a_400_problem_naming_them(string path, string detail)
    {
        using var response = await Client.PostAsync(path, Photo("dog.jpg"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_library_stores_the_verdict_and_safe_only_leaves_unsafe_images_out_of_search()
    {
        var dog = await LibraryFixture.AddAsync(Client, TestPaths.RealImage("dog.jpg"), "moderated");
        var people = await LibraryFixture.AddAsync(Client, TestPaths.RealImage("faces-13.jpg"), "moderated");
        var images = await LibraryFixture.WaitIndexedAsync(Client, [dog, people], TimeSpan.FromMinutes(3));
        Assert.False(images[dog].GetProperty("index").GetProperty("safety").GetProperty("safe").GetBoolean());
        Assert.True(images[people].GetProperty("index").GetProperty("safety").GetProperty("safe").GetBoolean());

        var all = await Client.GetFromJsonAsync<JsonElement>("/v1/search?text=a+photo&mode=semantic&collection=moderated");
        var safe = await Client.GetFromJsonAsync<JsonElement>("/v1/search?text=a+photo&mode=semantic&collection=moderated&safe_only=true");

        Assert.Equal(new[] { dog, people }.Order(), all.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("image_id").GetString()!).Order());
        Assert.Equal([people], safe.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("image_id").GetString()!));
    }
}
