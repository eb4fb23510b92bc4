using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Jobs.Kafka;

/// <summary>Turns a request from a Kafka client (an image, not yet a job) into a stored, queued job.</summary>
public delegate Task<Job> KafkaRequestIntake(KafkaJobRequest request, CancellationToken cancellationToken);

/// <summary>
/// A queue on Kafka: a request topic read by a consumer group, and a response topic that receives every finished
/// job keyed by its correlation id. Offsets are committed only once the job's outcome is stored (and answered),
/// and only up to the oldest message still in flight (<see cref="KafkaOffsetTracker"/>), so a consumer that dies
/// leaves its uncommitted messages to the group's next owner of the partition. Delivery is at least once: a
/// duplicate request finds its job already finished, and a response may be repeated, never lost — read responses
/// idempotently by correlation id. Retry backoff re-publishes the job with a <c>not_before</c> time.
/// </summary>
public sealed class KafkaJobQueue(
    string bootstrapServers, string requestTopic, string responseTopic, string groupId, IJobStore store,
    KafkaRequestIntake intake, ILogger? logger = null, TimeProvider? clock = null) : IJobQueue
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private const string KafkaKeyPrefix = "kafka:";

    private readonly KafkaOffsetTracker _offsets = new();
    private readonly SemaphoreSlim _consume = new(1, 1);
    private readonly List<(long Due, JobDelivery Delivery)> _delayed = [];
    private IProducer<string, byte[]>? _producer;
    private IConsumer<string, byte[]>? _consumer;

    public static ProducerConfig ProducerConfig(string bootstrapServers) => new()
    {
        BootstrapServers = bootstrapServers,
        // The broker acknowledges only once every in-sync replica has the message: "accepted" means durable.
        Acks = Acks.All,
        EnableIdempotence = true,
    };

    public static ConsumerConfig ConsumerConfig(string bootstrapServers, string groupId) => new()
    {
        BootstrapServers = bootstrapServers,
        GroupId = groupId,
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        // A job may run long; the consumer must not be thought dead between two polls.
        MaxPollIntervalMs = 3_600_000,
    };

    /// <summary>The correlation id a finished job is answered under: the client's, or the job id for jobs submitted over HTTP.</summary>
    public static string CorrelationIdOf(Job job) =>
        job.IdempotencyKey is { } key && key.StartsWith(KafkaKeyPrefix, StringComparison.Ordinal) ? key[KafkaKeyPrefix.Length..] : job.Id;

    /// <summary>The idempotency key of the job a Kafka request creates.</summary>
    public static string IdempotencyKeyOf(KafkaJobRequest request) => KafkaKeyPrefix + request.CorrelationId;

    public static string TokenOf(int partition, long offset) => $"{partition}:{offset}";

    public static (int Partition, long Offset) ParseToken(string token)
    {
        var colon = token.IndexOf(':');
        return (int.Parse(token[..colon], CultureInfo.InvariantCulture), long.Parse(token[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        _producer = new ProducerBuilder<string, byte[]>(ProducerConfig(bootstrapServers)).Build();
        return Task.CompletedTask;
    }

    private IProducer<string, byte[]> Producer => _producer ?? throw new InvalidOperationException("InitializeAsync was not called.");

    private IConsumer<string, byte[]> Consumer => _consumer ??= CreateConsumer();

    /// <summary>Created on first receive, so an API-only node never joins the consumer group.</summary>
    private IConsumer<string, byte[]> CreateConsumer()
    {
        var consumer = new ConsumerBuilder<string, byte[]>(ConsumerConfig(bootstrapServers, groupId))
            .SetPartitionsRevokedHandler((_, revoked) =>
            {
                foreach (var partition in revoked) _offsets.Revoked(partition.Partition.Value);
            })
            .Build();
        consumer.Subscribe(requestTopic);
        return consumer;
    }

    public async Task EnqueueAsync(string jobId, TimeSpan delay, CancellationToken cancellationToken)
    {
        var request = new KafkaJobRequest
        {
            CorrelationId = jobId,
            JobId = jobId,
            NotBefore = delay > TimeSpan.Zero ? _clock.GetUtcNow().Add(delay).ToUnixTimeMilliseconds() : null,
        };
        await Producer.ProduceAsync(requestTopic, new Message<string, byte[]> { Key = jobId, Value = request.ToUtf8() }, cancellationToken);
    }

    public async Task<JobDelivery?> ReceiveAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await _consume.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
                var due = _delayed.FindIndex(d => d.Due <= now);
                if (due >= 0)
                {
                    var delivery = _delayed[due].Delivery;
                    _delayed.RemoveAt(due);
                    return delivery;
                }
                var left = wait - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero) return null;
                var consumed = await Task.Run(() => Consumer.Consume(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250)), cancellationToken);
                if (consumed is null) continue;

                var partition = consumed.Partition.Value;
                var offset = consumed.Offset.Value;
                _offsets.Started(partition, offset);
                var token = TokenOf(partition, offset);
                KafkaJobRequest request;
                try
                {
                    request = KafkaJobRequest.Parse(consumed.Message.Value);
                }
                catch (InvalidJobRequestException e)
                {
                    logger?.LogWarning("Skipping an unreadable Kafka request at {Partition}:{Offset}: {Error}", partition, offset, e.Message);
                    await RespondAsync(consumed.Message.Key ?? token, null, "failed", e.Message, cancellationToken);
                    Commit(partition, offset);
                    continue;
                }
                if (request.JobId is null)
                {
                    await IntakeAsync(request, partition, offset, cancellationToken);
                    continue;
                }
                var jobDelivery = new JobDelivery(request.JobId, token, 1);
                if (request.NotBefore is { } notBefore && notBefore > now)
                    _delayed.Add((notBefore, jobDelivery));
                else
                    return jobDelivery;
            }
        }
        finally
        {
            _consume.Release();
        }
    }

    /// <summary>A client's request becomes a job (queued through this topic by job id); then its message is done.</summary>
    private async Task IntakeAsync(KafkaJobRequest request, int partition, long offset, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await intake(request, cancellationToken);
                break;
            }
            catch (JobQueueFullException e)
            {
                // Backpressure: leave the request uncommitted and wait, as an HTTP client would after a 429.
                await Task.Delay(e.RetryAfter, cancellationToken);
            }
            catch (Exception e) when (e is InvalidJobRequestException or FormatException || JobWorker.IsPermanent(e))
            {
                await RespondAsync(request.CorrelationId, null, "failed", e.Message, cancellationToken);
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store or disk is failing. The offset cannot move past this request until it is recorded, so
                // keep trying; at shutdown it stays uncommitted and is read again.
                logger?.LogWarning("Kafka request {CorrelationId} could not be recorded, retrying: {Error}", request.CorrelationId, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
        Commit(partition, offset);
    }

    private async Task RespondAsync(string correlationId, string? jobId, string status, string? error, CancellationToken cancellationToken)
    {
        var response = new KafkaJobResponse { CorrelationId = correlationId, JobId = jobId ?? "", Status = status, Error = error, CreatedAt = _clock.GetUtcNow() };
        await Producer.ProduceAsync(responseTopic, new Message<string, byte[]> { Key = correlationId, Value = response.ToUtf8() }, cancellationToken);
    }

    /// <summary>Answers a finished job on the response topic, then lets its offset be committed.</summary>
    public async Task AckAsync(JobDelivery delivery, CancellationToken cancellationToken)
    {
        var job = await store.GetAsync(delivery.JobId, cancellationToken);
        if (job is { IsFinished: true })
        {
            var correlationId = CorrelationIdOf(job);
            await Producer.ProduceAsync(responseTopic,
                new Message<string, byte[]> { Key = correlationId, Value = KafkaJobResponse.From(job, correlationId).ToUtf8() }, cancellationToken);
        }
        var (partition, offset) = ParseToken(delivery.Token);
        Commit(partition, offset);
    }

    private void Commit(int partition, long offset)
    {
        if (_offsets.Finished(partition, offset) is { } next)
            Consumer.Commit([new TopicPartitionOffset(requestTopic, partition, next)]);
    }

    /// <summary>Nothing to renew: the group keeps a partition with its consumer while the consumer lives.</summary>
    public Task RenewAsync(JobDelivery delivery, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task ReleaseAsync(JobDelivery delivery, TimeSpan delay, CancellationToken cancellationToken)
    {
        await EnqueueAsync(delivery.JobId, delay, cancellationToken);
        var (partition, offset) = ParseToken(delivery.Token);
        Commit(partition, offset);
    }

    public ValueTask DisposeAsync()
    {
        _producer?.Flush(TimeSpan.FromSeconds(10));
        _producer?.Dispose();
        if (_consumer is not null)
        {
            _consumer.Close();
            _consumer.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>The standard intake: a Kafka request is submitted like an HTTP one, idempotent on its correlation id.</summary>
public static class KafkaRequestIntakes
{
    public static KafkaRequestIntake Through(JobService service, IJobQueue queue, string defaultTasks) => async (request, cancellationToken) =>
    {
        byte[] image;
        try
        {
            image = Convert.FromBase64String(request.Image!);
        }
        catch (FormatException)
        {
            throw new InvalidJobRequestException("The Kafka request's image is not valid base64.", "image");
        }
        var tasks = service.ParseTasks(request.Tasks is { Count: > 0 } t ? string.Join(',', t) : null, defaultTasks);
        var result = await service.SubmitAsync(new JobSubmission(
            [new JobInputImage(image, null)], tasks, request.Parameters ?? new Dictionary<string, string>(),
            KafkaJobQueue.IdempotencyKeyOf(request)), cancellationToken);
        var job = result.Jobs[0];
        // A redelivered request whose first intake died between storing and enqueuing: enqueue again (duplicates are harmless).
        if (result.Replayed && job.Status == JobStatus.Queued)
            await queue.EnqueueAsync(job.Id, TimeSpan.Zero, cancellationToken);
        return job;
    };
}
