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
        });
        await host.WaitUntilReadyAsync();
        var dog = await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"));

        var responses = new List<(HttpStatusCode Status, RetryConditionHeaderValue? RetryAfter, string? Type, string Body)>();
        // Bursts until one overlaps at the gate (on a loaded machine the decodes can stagger a single burst).
        for (var burst = 0; burst < 5 && !responses.Any(r => r.Status == HttpStatusCode.ServiceUnavailable); burst++)
            responses.AddRange(await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                using var content = new ByteArrayContent(dog);
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
            var problem = JsonDocument.Parse(r.Body).RootElement;
            Assert.Equal("Model busy", problem.GetProperty("title").GetString());
            Assert.Contains("yolox-nano", problem.GetProperty("detail").GetString());
            Assert.Contains("Inference:MaxQueueWaitMs", problem.GetProperty("detail").GetString());
        });

        using var metrics = await host.Client.GetAsync("/metrics");
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("iris_inference_rejected_total{", text);
    }
}
