using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Core.Jobs;
using Iris.Core.Jobs.Kafka;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Facades;

/// <summary>
/// The captioning service's Kafka contract (seed 000): <c>{"request_id", "image_base64"}</c> on descRequests is answered
/// <c>{"request_id", "description"}</c> on descResponses. No broker can run on the development machines, so these tests
/// stop at the protocol: the message as its clients (kafka_tester.py) send it → the intake's typed request and job → the
/// response message the queue would produce. The broker round trip itself is KafkaJobQueueTests' [KafkaFact].
/// </summary>
public sealed class CaptionServiceKafkaTests(ReadyIrisHost fixture) : IClassFixture<ReadyIrisHost>
{
    private static byte[] Flower(int n) => File.ReadAllBytes(Path.Combine(TestPaths.Flowers, $"flower-{n:00}.png"));

    private static byte[] Message(object payload) => JsonSerializer.SerializeToUtf8Bytes(payload);

    [Fact]
    public void Old_shape_is_read_as_a_describe_request_keyed_by_its_request_id()
    {
        // kafka_tester.py sends a data URI; the service's consumer also took bare base64, wrapped or short of padding.
        var base64 = Convert.ToBase64String(Flower(1));
        foreach (var sent in new[] { "data:image/png;base64," + base64, base64.TrimEnd('=').Insert(40, "\n") })
        {
            var request = KafkaJobRequest.Parse(Message(new { request_id = "9f1c", image_base64 = sent }));
            Assert.Equal(KafkaRequestShape.CaptionService, request.Shape);
            Assert.Equal("9f1c", request.CorrelationId);
            Assert.Equal(["describe"], request.Tasks!);
            Assert.Equal(Flower(1), Convert.FromBase64String(request.Image!));
        }
        // Iris's own request keeps its shape and its tasks.
        var rich = KafkaJobRequest.Parse(Message(new { correlation_id = "c-1", image = base64, tasks = new[] { "detect" } }));
        Assert.Equal(KafkaRequestShape.Iris, rich.Shape);
        Assert.Equal(["detect"], rich.Tasks!);
    }

    [Theory]
    [InlineData("""{"image_base64":"AAAA"}""", "request_id")]
    [InlineData("""{"request_id":"r-2"}""", "image_base64")]
    [InlineData("""{"request_id":"r-3","image_base64":""}""", "image_base64")]
    public void Unusable_old_shape_request_is_refused_in_the_old_shape(string body, string reason)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var error = Assert.Throws<InvalidJobRequestException>(() => KafkaJobRequest.Parse(bytes));
        Assert.Contains(reason, error.Message);
        Assert.Equal(KafkaRequestShape.CaptionService, KafkaJobRequest.ShapeOf(bytes));
    }

    [Fact]
    public async Task Old_shape_request_gets_the_caption_under_its_request_id_and_a_bad_one_says_why()
    {
        var services = fixture.Host.App.Services;
        var jobs = services.GetRequiredService<JobService>();
        // Jobs:DefaultTasks is detect: the old shape must still get a caption.
        var intake = new KafkaRequestIntake("unused:9092", "descRequests", "descResponses", "iris-workers", jobs, "detect");
        var requestId = Guid.NewGuid().ToString();
        var message = Message(new { request_id = requestId, image_base64 = "data:image/png;base64," + Convert.ToBase64String(Flower(4)) });

        Assert.Null(await intake.HandleAsync(message, CancellationToken.None));
        Assert.Null(await intake.HandleAsync(message, CancellationToken.None)); // redelivered: still one job
        var job = await WaitFinishedAsync(jobs, requestId);
        Assert.Equal(["describe"], job.Tasks);
        Assert.Equal(JobStatus.Done, job.Status);

        var response = KafkaJobQueue.ResponseOf(job);
        Assert.Equal(requestId, response.Key);
        var body = JsonDocument.Parse(response.Value).RootElement;
        Assert.Equal(["request_id", "description"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(requestId, body.GetProperty("request_id").GetString());
        Assert.Equal(await IrisCaptionAsync(Flower(4)), body.GetProperty("description").GetString());

        // Not base64: refused at once, answered in the old shape with description null and the reason.
        var refusal = await intake.HandleAsync(Message(new { request_id = "bad-1", image_base64 = "@@@@" }), CancellationToken.None);
        Assert.NotNull(refusal);
        var refused = KafkaCaptionResponse.Parse(refusal.ToMessage("0:1", DateTimeOffset.UtcNow).Value);
        Assert.Equal("bad-1", refused.RequestId);
        Assert.Null(refused.Description);
        Assert.Contains("image_base64 is not valid base64", refused.Error);
        Assert.Contains("\"description\":null", Encoding.UTF8.GetString(refusal.ToMessage("0:1", DateTimeOffset.UtcNow).Value));

        // Base64 of something that is no image: the job fails, and the answer says so under the request id.
        var notImage = Guid.NewGuid().ToString();
        Assert.Null(await intake.HandleAsync(Message(new { request_id = notImage, image_base64 = Convert.ToBase64String("not an image"u8.ToArray()) }), CancellationToken.None));
        var failed = KafkaCaptionResponse.Parse(KafkaJobQueue.ResponseOf(await WaitFinishedAsync(jobs, notImage)).Value);
        Assert.Equal(notImage, failed.RequestId);
        Assert.Null(failed.Description);
        Assert.False(string.IsNullOrEmpty(failed.Error));
    }

    [Fact]
    public void Iris_shape_job_is_still_answered_with_the_job_document()
    {
        var job = new Job
        {
            Id = Job.NewId(), Status = JobStatus.Done, Tasks = ["describe"], InputRef = "x",
            IdempotencyKey = KafkaJobQueue.IdempotencyKeyOf(new KafkaJobRequest { CorrelationId = "order-9", Image = "AA==" }),
            Result = """{"describe":{"description":"a red flower"}}""", CreatedAt = DateTimeOffset.UtcNow, CompletedAt = DateTimeOffset.UtcNow,
        };
        var response = KafkaJobResponse.Parse(KafkaJobQueue.ResponseOf(job).Value);
        Assert.Equal("order-9", response.CorrelationId);
        Assert.Equal("done", response.Status);

        var asCaption = job with { IdempotencyKey = KafkaJobQueue.IdempotencyKeyOf(new KafkaJobRequest { CorrelationId = "r-9", Image = "AA==", Shape = KafkaRequestShape.CaptionService }) };
        Assert.Equal("""{"request_id":"r-9","description":"a red flower"}""", Encoding.UTF8.GetString(KafkaJobQueue.ResponseOf(asCaption).Value));
    }

    private static async Task<Job> WaitFinishedAsync(JobService jobs, string requestId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var page = await jobs.ListAsync(new JobQuery(Limit: 200), CancellationToken.None);
            var job = Assert.Single(page.Jobs, j => KafkaJobQueue.CorrelationIdOf(j) == requestId);
            if (job.IsFinished) return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job {job.Id} is still {job.Status}");
            await Task.Delay(50);
        }
    }

    private async Task<string> IrisCaptionAsync(byte[] image)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "flower.png" } };
        using var response = await fixture.Host.Client.PostAsync("/v1/describe", form);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("description").GetString()!;
    }
}
