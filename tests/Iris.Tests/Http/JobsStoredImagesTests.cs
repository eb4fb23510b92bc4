using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>Jobs on images stored earlier with POST /api/v1/upload, named by id instead of sent again.</summary>
public sealed class JobsStoredImagesTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private IrisTestHost _host = null!;
    private HttpClient Client => _host.Client;

    public async Task InitializeAsync()
    {
        _host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Jobs:Database"] = _data.File("jobs.db"),
            ["Jobs:InputDirectory"] = _data.File("inputs"),
            ["Storage:Directory"] = _data.File("blobs"),
            ["Jobs:Workers"] = "1",
            ["Jobs:PollIntervalMs"] = "50",
        });
        await _host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _data.Dispose();
    }

    private async Task<string> UploadAsync(string file)
    {
        using var response = await Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(await File.ReadAllBytesAsync(TestPaths.RealImage(file))));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private Task<JsonElement> ResultAsync(string id) => TransformJobsTests.ResultAsync(Client, id);

    private static Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains) =>
        JobsApiTests.ProblemAsync(response, status, detailContains);

    [Fact]
    public async Task Stored_image_ids_make_a_batch_with_one_job_per_image()
    {
        var dog = await UploadAsync("dog.jpg");
        var cat = await UploadAsync("coco-000000001675.jpg");
        using var response = await Client.PostAsync($"/v1/jobs?tasks=detect&image_ids={dog},{cat}", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var submitted = await response.Content.ReadFromJsonAsync<JsonElement>();
        var ids = submitted.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).ToList();
        Assert.Equal(2, ids.Count);

        var dogResult = await ResultAsync(ids[0]);
        Assert.Contains(dogResult.GetProperty("detect").GetProperty("objects").EnumerateArray(), o => o.GetProperty("label").GetString() == "dog");
        var catResult = await ResultAsync(ids[1]);
        Assert.Contains(catResult.GetProperty("detect").GetProperty("objects").EnumerateArray(), o => o.GetProperty("label").GetString() == "cat");
    }

    [Fact]
    public async Task Image_ids_can_come_as_a_form_field()
    {
        var dog = await UploadAsync("dog.jpg");
        using var form = new MultipartFormDataContent { { new StringContent(dog), "image_ids" }, { new StringContent("info"), "tasks" } };
        using var response = await Client.PostAsync("/v1/jobs", form);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var result = await ResultAsync(id);
        Assert.Equal(768, result.GetProperty("info").GetProperty("width").GetInt32());
    }

    [Fact]
    public async Task An_unknown_id_is_a_404_that_names_it_and_queues_nothing()
    {
        var dog = await UploadAsync("dog.jpg");
        var missing = new string('0', 32);
        var problem = await ProblemAsync(await Client.PostAsync($"/v1/jobs?image_ids={dog},{missing}", null), HttpStatusCode.NotFound, missing);
        Assert.Contains("POST /api/v1/upload", problem.GetProperty("detail").GetString());
        var jobs = await Client.GetFromJsonAsync<JsonElement>("/v1/jobs");
        Assert.Empty(jobs.GetProperty("jobs").EnumerateArray());
    }

    [Fact]
    public async Task Files_and_image_ids_together_or_too_many_ids_are_refused()
    {
        var dog = await UploadAsync("dog.jpg");
        using var both = new MultipartFormDataContent
        {
            { new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"))), "image", "dog.jpg" },
            { new StringContent(dog), "image_ids" },
        };
        await ProblemAsync(await Client.PostAsync("/v1/jobs", both), HttpStatusCode.BadRequest, "either image files or image_ids");
        var many = string.Join(',', Enumerable.Repeat(dog, 101));
        await ProblemAsync(await Client.PostAsync($"/v1/jobs?image_ids={many}", null), HttpStatusCode.BadRequest, "at most 100");
        await ProblemAsync(await Client.PostAsync("/v1/jobs?image_ids=../../etc/passwd", null), HttpStatusCode.BadRequest, "is not an image id");
    }
}
