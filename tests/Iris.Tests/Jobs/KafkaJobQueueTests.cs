using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Iris.Configuration;
using Iris.Core.Jobs;
using Iris.Core.Jobs.Kafka;
using Iris.Core.Jobs.Sqlite;
using Iris.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Iris.Tests.Jobs;

/// <summary>
/// The Kafka queue's contracts and bookkeeping, testable without a broker. The end-to-end test needs one: it runs
/// when IRIS_TEST_KAFKA_BOOTSTRAP names it (no broker can be installed on the development machines).
/// </summary>
public sealed class KafkaJobQueueTests
{
    [Fact]
    public void Request_uses_snake_case_fields_and_round_trips()
    {
        var request = new KafkaJobRequest
        {
            CorrelationId = "c-1", Image = Convert.ToBase64String([1, 2, 3]), Tasks = ["describe"],
            Parameters = new Dictionary<string, string> { ["max_length"] = "20" },
        };
        var json = JsonDocument.Parse(request.ToUtf8()).RootElement;
        Assert.Equal(["correlation_id", "image", "tasks", "parameters"], json.EnumerateObject().Select(p => p.Name));
        var parsed = KafkaJobRequest.Parse(request.ToUtf8());
        Assert.Equal("c-1", parsed.CorrelationId);
        Assert.Equal(["describe"], parsed.Tasks!);
        Assert.Equal("20", parsed.Parameters!["max_length"]);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("""{"image":"AAAA"}""", "correlation_id")]
    [InlineData("""{"correlation_id":"c"}""", "job_id or image")]
    public void Unusable_request_is_refused_with_a_reason(string body, string reason)
    {
        var error = Assert.Throws<InvalidJobRequestException>(() => KafkaJobRequest.Parse(Encoding.UTF8.GetBytes(body)));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Response_answers_under_the_clients_correlation_id_with_the_result_document()
    {
        var job = new Job
        {
            Id = Job.NewId(), Status = JobStatus.Done, Tasks = ["describe"], InputRef = "x",
            IdempotencyKey = KafkaJobQueue.IdempotencyKeyOf(new KafkaJobRequest { CorrelationId = "order-9", Image = "AA==" }),
            Result = """{"describe":{"description":"a red flower"}}""", GeneratedBy = [new ModelVersion("flower-captioner-tiny", "1")],
            CreatedAt = DateTimeOffset.UtcNow, CompletedAt = DateTimeOffset.UtcNow,
        };
        var correlationId = KafkaJobQueue.CorrelationIdOf(job);
        Assert.Equal("order-9", correlationId);
        var response = KafkaJobResponse.Parse(KafkaJobResponse.From(job, correlationId).ToUtf8());
        Assert.Equal("order-9", response.CorrelationId);
        Assert.Equal(job.Id, response.JobId);
        Assert.Equal("done", response.Status);
        Assert.Equal("a red flower", response.Result!.Value.GetProperty("describe").GetProperty("description").GetString());
        Assert.Equal("flower-captioner-tiny", response.GeneratedBy[0].Name);

        // A job submitted over HTTP is answered under its own id.
        Assert.Equal(job.Id, KafkaJobQueue.CorrelationIdOf(job with { IdempotencyKey = "http-key" }));
    }

    [Fact]
    public void Offsets_are_committed_only_past_messages_that_all_finished()
    {
        var tracker = new KafkaOffsetTracker();
        foreach (var offset in new long[] { 10, 11, 12, 13 }) tracker.Started(0, offset);
        tracker.Started(1, 5);
        Assert.Null(tracker.Finished(0, 12));     // 10 and 11 still in flight
        Assert.Null(tracker.Finished(0, 11));
        Assert.Equal(13, tracker.Finished(0, 10)); // 10, 11, 12 done: the next to read is 13
        Assert.Equal(6, tracker.Finished(1, 5));   // partitions are independent
        Assert.Equal(14, tracker.Finished(0, 13));
        Assert.Null(tracker.Finished(0, 13));      // a second ack changes nothing

        tracker.Started(2, 1);
        tracker.Revoked(2);
        Assert.Null(tracker.Finished(2, 1));       // a revoked partition is no longer ours to commit
    }

    [Fact]
    public void Delivery_tokens_name_the_partition_and_offset()
    {
        Assert.Equal((3, 1234567890123L), KafkaJobQueue.ParseToken(KafkaJobQueue.TokenOf(3, 1234567890123)));
    }

    [Fact]
    public void Clients_are_configured_for_durability()
    {
        var producer = KafkaJobQueue.ProducerConfig("k:9092");
        Assert.Equal(Acks.All, producer.Acks);
        Assert.True(producer.EnableIdempotence);
        var consumer = KafkaJobQueue.ConsumerConfig("k:9092", "iris-workers");
        Assert.False(consumer.EnableAutoCommit);
        Assert.Equal("iris-workers", consumer.GroupId);
        Assert.Equal(AutoOffsetReset.Earliest, consumer.AutoOffsetReset);
    }

    [Fact]
    public void Kafka_topics_are_checked_by_configuration_validation()
    {
        var options = new IrisOptions { Jobs = new JobsOptions { Queue = "kafka", Kafka = new KafkaJobsOptions { RequestTopic = "same", ResponseTopic = "same" } } };
        Assert.Contains(IrisConfiguration.Validate(options), e => e.Contains("Jobs:Kafka:RequestTopic and Jobs:Kafka:ResponseTopic must differ"));
        var defaults = new IrisOptions { Jobs = new JobsOptions { Queue = "kafka" } };
        Assert.Empty(IrisConfiguration.Validate(defaults));
        Assert.Equal("descRequests", defaults.Jobs.Kafka.RequestTopic);
        Assert.Equal("descResponses", defaults.Jobs.Kafka.ResponseTopic);
    }

    [Fact]
    public async Task Client_request_becomes_one_job_however_often_it_is_read_and_unusable_ones_are_refused()
    {
        using var scratch = new TempDirectory();
        var database = new SqliteJobDatabase(scratch.File("jobs.db"));
        var store = new SqliteJobStore(database);
        var queue = new SqliteJobQueue(database, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        var service = new JobService(store, queue, new LocalDiskJobBlobStore(scratch.File("inputs")), new EchoJobProcessor(), new JobSettings());
        // No broker is reached: HandleAsync is the intake's whole decision for one message of the request topic.
        var intake = new KafkaRequestIntake("unused:9092", "requests", "responses", "iris-workers", service, "echo");
        var request = new KafkaJobRequest { CorrelationId = "order-1", Image = Convert.ToBase64String(new byte[5]), Tasks = ["echo"] };

        Assert.Null(await intake.HandleAsync(request.ToUtf8(), CancellationToken.None));
        Assert.Null(await intake.HandleAsync(request.ToUtf8(), CancellationToken.None)); // read again after a crash
        var job = Assert.Single((await store.ListAsync(new JobQuery(), CancellationToken.None)).Jobs);
        Assert.Equal(KafkaJobQueue.IdempotencyKeyOf(request), job.IdempotencyKey);
        Assert.Equal("order-1", KafkaJobQueue.CorrelationIdOf(job));
        // Both reads enqueued the still-queued job; the store lets one delivery run it.
        Assert.Equal(2, await queue.CountAsync(CancellationToken.None));

        // A job id is the queue's message, not a request: passed over.
        Assert.Null(await intake.HandleAsync(new KafkaJobRequest { CorrelationId = job.Id, JobId = job.Id }.ToUtf8(), CancellationToken.None));
        var refused = await intake.HandleAsync(new KafkaJobRequest { CorrelationId = "order-2", Image = "not base64!", Tasks = ["echo"] }.ToUtf8(), CancellationToken.None);
        Assert.Equal(new KafkaRequestIntake.Refusal("order-2", "The Kafka request's image is not valid base64."), refused);
        Assert.Equal("order-3", (await intake.HandleAsync(new KafkaJobRequest { CorrelationId = "order-3", Image = "AA==", Tasks = ["nope"] }.ToUtf8(), CancellationToken.None))?.CorrelationId);
        Assert.Null((await intake.HandleAsync("not json"u8.ToArray(), CancellationToken.None))!.CorrelationId);
        Assert.Single((await store.ListAsync(new JobQuery(), CancellationToken.None)).Jobs);
        Assert.Equal("iris-workers-intake", KafkaRequestIntake.GroupOf("iris-workers"));
        SqliteConnection.ClearAllPools();
    }

    [KafkaFact]
    public async Task Request_message_is_answered_on_the_response_topic_with_its_correlation_id()
    {
        var bootstrap = Environment.GetEnvironmentVariable("IRIS_TEST_KAFKA_BOOTSTRAP")!;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (requests, responses) = ($"iris-requests-{suffix}", $"iris-responses-{suffix}");
        using var scratch = new TempDirectory();
        var database = new SqliteJobDatabase(scratch.File("jobs.db"));
        var store = new SqliteJobStore(database);
        var processor = new EchoJobProcessor();
        var settings = new JobSettings();
        var blobs = new LocalDiskJobBlobStore(scratch.File("inputs"));
        var queue = new KafkaJobQueue(bootstrap, requests, responses, "iris-test-" + suffix, store);
        await queue.InitializeAsync(CancellationToken.None);
        var service = new JobService(store, queue, blobs, processor, settings);
        var intake = new KafkaRequestIntake(bootstrap, requests, responses, "iris-test-" + suffix, service, "echo");

        using var producer = new ProducerBuilder<string, byte[]>(KafkaJobQueue.ProducerConfig(bootstrap)).Build();
        var request = new KafkaJobRequest { CorrelationId = "corr-" + suffix, Image = Convert.ToBase64String(new byte[42]), Tasks = ["echo"] };
        await producer.ProduceAsync(requests, new Message<string, byte[]> { Key = request.CorrelationId, Value = request.ToUtf8() });

        using var stop = new CancellationTokenSource();
        var worker = new JobWorker(store, queue, blobs, processor, settings).RunAsync(1, stop.Token);
        var intaking = intake.RunAsync(stop.Token);
        using var consumer = new ConsumerBuilder<string, byte[]>(KafkaJobQueue.ConsumerConfig(bootstrap, "reader-" + suffix)).Build();
        consumer.Subscribe(responses);
        var message = await Task.Run(() => consumer.Consume(TimeSpan.FromSeconds(60)));
        await stop.CancelAsync();
        await worker;
        await intaking;
        await queue.DisposeAsync();

        Assert.NotNull(message);
        Assert.Equal(request.CorrelationId, message.Message.Key);
        var response = KafkaJobResponse.Parse(message.Message.Value);
        Assert.Equal(request.CorrelationId, response.CorrelationId);
        Assert.Equal("done", response.Status);
        Assert.Equal(42, response.Result!.Value.GetProperty("echo").GetProperty("bytes").GetInt32());
    }
}

/// <summary>A test that needs a Kafka broker: skipped unless IRIS_TEST_KAFKA_BOOTSTRAP names one.</summary>
public sealed class KafkaFactAttribute : FactAttribute
{
    public KafkaFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("IRIS_TEST_KAFKA_BOOTSTRAP")))
            Skip = "No Kafka broker: set IRIS_TEST_KAFKA_BOOTSTRAP=host:port to run it.";
    }
}
