using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>Dynamic batching over HTTP: a model's full batch queue answers 503 with Retry-After, and the metrics show the batches.</summary>
public class BatchingOverloadTests
{
    [Fact]
    public async Task A_full_batch_queue_answers_503_problem_json_with_retry_after_and_the_rest_succeed()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Inference:MaxConcurrentRuns"] = "1",
            // Two waiting requests at most: a burst of 48 cannot all wait for a batch of two.
            ["Inference:Batching:Models:yolox-nano:MaxBatch"] = "2",
            ["Inference:Batching:Models:yolox-nano:MaxQueue"] = "2",
            // The batch queue is under test, not the admission of image requests in front of it (which would let only
            // twice the cores through, never enough to fill the queue).
            ["Server:MaxImageRequests"] = "-1",
        });
        await host.WaitUntilReadyAsync();
        var image = TestImages.Encode(TestImages.Pattern(32, 24), ".png");

        var responses = await Task.WhenAll(Enumerable.Range(0, 48).Select(async _ =>
        {
            using var content = new ByteArrayContent(image);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var response = await host.Client.PostAsync("/v1/detect", content);
            return (response.StatusCode, response.Headers.RetryAfter?.Delta, response.Content.Headers.ContentType?.MediaType,
                Body: await response.Content.ReadAsStringAsync());
        }));

        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(refused);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{r.StatusCode}: {r.Body}"));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        foreach (var r in refused)
        {
            Assert.Equal("application/problem+json", r.MediaType);
            Assert.True(r.Delta >= TimeSpan.FromSeconds(1), $"Retry-After {r.Delta}");
            using var problem = JsonDocument.Parse(r.Body);
            Assert.Equal("Model busy", problem.RootElement.GetProperty("title").GetString());
            Assert.Contains("yolox-nano", problem.RootElement.GetProperty("detail").GetString());
        }

        var metrics = (await host.Client.GetStringAsync("/metrics")).Split('\n');
        foreach (var series in new[] { "iris_model_batch_rejected_total{", "iris_model_batch_size_bucket{", "iris_model_batch_queue_seconds_bucket{" })
            Assert.Contains(metrics, line => line.StartsWith(series, StringComparison.Ordinal) && line.Contains("model=\"yolox-nano\""));
    }
}
