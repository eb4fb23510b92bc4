using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>Transforms as durable jobs: <c>tasks=transform</c> keeps each pipeline's output in the image store.</summary>
public sealed class TransformJobsTests(TransformHost fixture) : IClassFixture<TransformHost>
{
    private HttpClient Client => fixture.Host.Client;
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

    /// <summary>The result document of a job once it is done.</summary>
    internal static async Task<JsonElement> ResultAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await client.GetAsync($"/v1/jobs/{id}/result");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK) return JsonDocument.Parse(body).RootElement.Clone();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job {id} did not finish: {body}");
            await Task.Delay(50);
        }
    }

    private async Task<HttpResponseMessage> SubmitAsync(string query) =>
        await Client.PostAsync("/v1/jobs?" + query, TransformApiTests.Raw(Dog, "image/jpeg"));

    [Fact]
    public async Task Transform_job_keeps_each_pipeline_output_in_the_image_store()
    {
        var ops = Uri.EscapeDataString("resize:w=100;format:png|resize:w=50;format:webp,q=70");
        using var response = await SubmitAsync($"tasks=transform&ops={ops}");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var outputs = (await ResultAsync(Client, id)).GetProperty("transform").GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(["resize:w=100;format:png", "resize:w=50;format:webp,q=70"], outputs.Select(o => o.GetProperty("ops").GetString()));
        Assert.Equal(["image/png", "image/webp"], outputs.Select(o => o.GetProperty("media_type").GetString()));
        Assert.Equal([100, 50], outputs.Select(o => o.GetProperty("width").GetInt32()));

        // Each output is served from the store by a signed /v1/img URL, exactly as the synchronous route makes it.
        using var expected = await Client.PostAsync("/v1/transform?ops=resize:w=100;format:png", TransformApiTests.Raw(Dog, "image/jpeg"));
        using var stored = await Client.GetAsync(outputs[0].GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal("image/png", stored.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await expected.Content.ReadAsByteArrayAsync(), await stored.Content.ReadAsByteArrayAsync());
        Assert.Equal(outputs[0].GetProperty("bytes").GetInt64(), stored.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Transform_is_a_job_of_its_own_and_its_pipelines_are_checked_at_submit()
    {
        await JobsApiTests.ProblemAsync(await SubmitAsync("tasks=transform,detect&ops=flip"), HttpStatusCode.BadRequest, "transform runs as a job of its own");
        await JobsApiTests.ProblemAsync(await SubmitAsync("tasks=transform"), HttpStatusCode.BadRequest, "needs ops");
        var problem = await JobsApiTests.ProblemAsync(await SubmitAsync("tasks=transform&ops=resize:w=abc"), HttpStatusCode.BadRequest, "between 1 and 100000");
        Assert.Equal("resize.w", problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task A_transform_job_with_more_pipelines_than_a_batch_allows_is_400_naming_the_limit()
    {
        // The fixture sets Transforms:MaxBatchItems to 6.
        var ops = Uri.EscapeDataString(string.Join('|', Enumerable.Repeat("flip", 7)));
        var problem = await JobsApiTests.ProblemAsync(await SubmitAsync($"tasks=transform&ops={ops}"), HttpStatusCode.BadRequest, "Transforms:MaxBatchItems");
        Assert.Equal("ops", problem.GetProperty("parameter").GetString());

        using var atTheLimit = await SubmitAsync($"tasks=transform&ops={Uri.EscapeDataString(string.Join('|', Enumerable.Repeat("flip", 6)))}");
        Assert.Equal(HttpStatusCode.Accepted, atTheLimit.StatusCode);
    }
}
