using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Jobs.Kafka;

/// <summary>
/// The Kafka entry point: reads requests from Kafka clients (an image, tasks, parameters) on the request topic and
/// submits each through <see cref="JobService"/>, as the HTTP route does; the job then travels the job queue like any
/// other. It reads in a consumer group of its own (<see cref="GroupOf"/>), so the queue's group and this one each see
/// every message and take only theirs: job ids are the queue's, client requests are this intake's. An offset is
/// committed once its request is recorded as a job (or answered as refused), so an intake that dies re-reads the
/// request, and the correlation id, used as the job's idempotency key, keeps that from making a second job. A request in
/// the captioning service's shape (<c>{"request_id", "image_base64"}</c>) runs <c>describe</c> whatever Jobs:DefaultTasks
/// says and is answered <c>{"request_id", "description"}</c>, as that service answered it.
/// </summary>
public sealed class KafkaRequestIntake(
    string bootstrapServers, string requestTopic, string responseTopic, string workerGroupId, JobService service, string defaultTasks,
    ILogger<KafkaRequestIntake>? logger = null, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>The intake's consumer group, named after the workers' group.</summary>
    public static string GroupOf(string workerGroupId) => workerGroupId + "-intake";

    public async Task RunAsync(CancellationToken stopping)
    {
        using var producer = new ProducerBuilder<string, byte[]>(KafkaJobQueue.ProducerConfig(bootstrapServers)).Build();
        using var consumer = new ConsumerBuilder<string, byte[]>(KafkaJobQueue.ConsumerConfig(bootstrapServers, GroupOf(workerGroupId))).Build();
        consumer.Subscribe(requestTopic);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var consumed = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(250)), stopping);
                if (consumed is null) continue;
                var refusal = await HandleAsync(consumed.Message.Value, stopping);
                if (refusal is not null)
                {
                    var correlationId = consumed.Message.Key ?? KafkaJobQueue.TokenOf(consumed.Partition.Value, consumed.Offset.Value);
                    logger?.LogWarning("Kafka request {CorrelationId} refused: {Error}", refusal.CorrelationId ?? correlationId, refusal.Error);
                    await producer.ProduceAsync(responseTopic, refusal.ToMessage(correlationId, _clock.GetUtcNow()), stopping);
                }
                consumer.Commit([new TopicPartitionOffset(consumed.TopicPartition, consumed.Offset + 1)]);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down: a request being recorded stays uncommitted and is read again.
        }
        finally
        {
            producer.Flush(TimeSpan.FromSeconds(10));
            consumer.Close();
        }
    }

    /// <summary>Why a request was refused, to answer on the response topic in the shape the request came in.</summary>
    public sealed record Refusal(string? CorrelationId, string Error, KafkaRequestShape Shape = KafkaRequestShape.Iris)
    {
        /// <summary>
        /// The answer. An Iris request without a correlation id is answered under <paramref name="fallbackKey"/> (the
        /// message's key, or its partition:offset); a captioning service request without a request_id has none to give.
        /// </summary>
        public Message<string, byte[]> ToMessage(string fallbackKey, DateTimeOffset now) => Shape == KafkaRequestShape.CaptionService
            ? new() { Key = CorrelationId ?? fallbackKey, Value = new KafkaCaptionResponse { RequestId = CorrelationId, Error = Error }.ToUtf8() }
            : new()
            {
                Key = CorrelationId ?? fallbackKey,
                Value = new KafkaJobResponse { CorrelationId = CorrelationId ?? fallbackKey, JobId = "", Status = "failed", Error = Error, CreatedAt = now }.ToUtf8(),
            };
    }

    /// <summary>
    /// Records one message of the request topic as a job; null when it is recorded (or is a job id, the queue's
    /// business), else why it can never be. A store that fails, or a full queue, is waited out: the request cannot be
    /// passed until it is recorded.
    /// </summary>
    public async Task<Refusal?> HandleAsync(byte[] message, CancellationToken cancellationToken)
    {
        KafkaJobRequest request;
        try
        {
            request = KafkaJobRequest.Parse(message);
        }
        catch (InvalidJobRequestException e)
        {
            return new Refusal(null, e.Message, KafkaJobRequest.ShapeOf(message));
        }
        if (request.JobId is not null) return null;
        while (true)
        {
            try
            {
                await SubmitAsync(request, cancellationToken);
                return null;
            }
            catch (JobQueueFullException e)
            {
                // Backpressure: wait, as an HTTP client would after a 429.
                await Task.Delay(e.RetryAfter, _clock, cancellationToken);
            }
            catch (Exception e) when (e is InvalidJobRequestException or FormatException || JobWorker.IsPermanent(e))
            {
                return new Refusal(request.CorrelationId, e.Message, request.Shape);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger?.LogWarning("Kafka request {CorrelationId} could not be recorded, retrying: {Error}", request.CorrelationId, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), _clock, cancellationToken);
            }
        }
    }

    /// <summary>Submitted like an HTTP request, idempotent on the correlation id (a replay re-enqueues a job still queued).</summary>
    private async Task<Job> SubmitAsync(KafkaJobRequest request, CancellationToken cancellationToken)
    {
        byte[] image;
        try
        {
            image = Convert.FromBase64String(request.Image!);
        }
        catch (FormatException)
        {
            throw request.Shape == KafkaRequestShape.CaptionService
                ? new InvalidJobRequestException("The captioning request's image_base64 is not valid base64.", "image_base64")
                : new InvalidJobRequestException("The Kafka request's image is not valid base64.", "image");
        }
        var tasks = service.ParseTasks(request.Tasks is { Count: > 0 } t ? string.Join(',', t) : null, defaultTasks);
        var result = await service.SubmitAsync(new JobSubmission(
            [new JobInputImage(image, null)], tasks, request.Parameters ?? new Dictionary<string, string>(),
            KafkaJobQueue.IdempotencyKeyOf(request)), cancellationToken);
        return result.Jobs[0];
    }
}
