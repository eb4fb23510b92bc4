using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>Excess load on a model gets 503 with Retry-After and a problem+json detail, not a latency past the budget.</summary>
public sealed class InferenceOverloadApiTests
{
    [Fact]
    public async Task A_burst_past_the_models_queue_wait_gets_503_with_Retry_After_and_the_rest_succeed()
    {
        // One run at a time and 1 ms of queue: every request that finds the detector busy is refused.
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Inference:MaxConcurrentRuns"] = "1",
            ["Inference:MaxQueueWaitMs"] = "1",
            // The model's gate is under test here, not the admission of image requests in front of it.
            ["Server:MaxImageRequests"] = "-1",
        });
        var refused = await BurstUntilRefusedAsync(host);
        Assert.All(refused, problem =>
        {
            Assert.Equal("Model busy", problem.GetProperty("title").GetString());
            Assert.Contains("yolox-nano", problem.GetProperty("detail").GetString());
            Assert.Contains("Inference:MaxQueueWaitMs", problem.GetProperty("detail").GetString());
        });

        using var metrics = await host.Client.GetAsync("/metrics");
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("iris_inference_rejected_total{", text);
    }

    [Fact]
    public async Task Image_requests_past_MaxImageRequests_wait_at_most_the_budget_then_get_503_Server_busy_with_Retry_After()
    {
        // One image request at a time and 1 ms of wait: every request that arrives while another is in progress is refused.
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Server:MaxImageRequests"] = "1",
            ["Inference:MaxQueueWaitMs"] = "1",
        });
        var refused = await BurstUntilRefusedAsync(host);
        Assert.All(refused, problem =>
        {
            Assert.Equal("Server busy", problem.GetProperty("title").GetString());
            Assert.Contains("Server:MaxImageRequests", problem.GetProperty("detail").GetString());
        });

        using var metrics = await host.Client.GetAsync("/metrics");
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("iris_requests_shed_total", text);
        using var health = await host.Client.GetAsync("/health");
        Assert.Contains("1 image requests at once (Server:MaxImageRequests)", await health.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Bursts of 16 concurrent detections until one is refused (on a loaded machine the decodes can stagger a single
    /// burst); every answer is 200 or 503, at least one is 200, and each 503 is problem+json with a Retry-After of at
    /// least a second. Returns the refusals' problem documents.
    /// </summary>
    private static async Task<List<JsonElement>> BurstUntilRefusedAsync(IrisTestHost host)
    {
        await host.WaitUntilReadyAsync();
        var image = await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"));
        var responses = new List<(HttpStatusCode Status, RetryConditionHeaderValue? RetryAfter, string? Type, string Body)>();
        for (var burst = 0; burst < 5 && !responses.Any(r => r.Status == HttpStatusCode.ServiceUnavailable); burst++)
            responses.AddRange(await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                using var content = new ByteArrayContent(image);
                content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
                using var response = await host.Client.PostAsync("/v1/detect", content);
                return (response.StatusCode, response.Headers.RetryAfter, response.Content.Headers.ContentType?.MediaType,
                    await response.Content.ReadAsStringAsync());
            })));

        Assert.All(responses, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)r.Status} {r.Body}"));
        Assert.Contains(responses, r => r.Status == HttpStatusCode.OK);
        var refused = responses.Where(r => r.Status == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r =>
        {
            Assert.Equal("application/problem+json", r.Type);
            Assert.True(r.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), r.RetryAfter?.ToString());
        });
        return refused.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
    }
}
