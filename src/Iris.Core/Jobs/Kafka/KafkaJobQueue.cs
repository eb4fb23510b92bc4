using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Jobs.Kafka;

/// <summary>
/// A queue on Kafka: job ids on the request topic read by a consumer group, and a response topic that receives every
/// finished job keyed by its correlation id. Requests from Kafka clients (an image, not yet a job) share the request
/// topic but are not this queue's: <see cref="KafkaRequestIntake"/> reads them in a group of its own and submits them
/// like any other entry point, so this queue skips them. Offsets are committed only once the job's outcome is stored (and answered),
/// and only up to the oldest message still in flight (<see cref="KafkaOffsetTracker"/>), so a consumer that dies
/// leaves its uncommitted messages to the group's next owner of the partition. Delivery is at least once: a
/// duplicate request finds its job already finished, and a response may be repeated, never lost — read responses
/// idempotently by correlation id. Retry backoff re-publishes the job with a <c>not_before</c> time.
/// </summary>
public sealed class KafkaJobQueue(
    string bootstrapServers, string requestTopic, string responseTopic, string groupId, IJobStore store,
    ILogger? logger = null, TimeProvider? clock = null) : IJobQueue
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private const string KafkaKeyPrefix = "kafka:";
    private const string CaptionServiceKeyPrefix = "kafka-caption:";

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
    public static string CorrelationIdOf(Job job) => job.IdempotencyKey switch
    {
        { } key when key.StartsWith(KafkaKeyPrefix, StringComparison.Ordinal) => key[KafkaKeyPrefix.Length..],
        { } key when key.StartsWith(CaptionServiceKeyPrefix, StringComparison.Ordinal) => key[CaptionServiceKeyPrefix.Length..],
        _ => job.Id,
    };

    /// <summary>
    /// The idempotency key of the job a Kafka request creates. It also records the request's shape, so whichever worker
    /// finishes the job answers in the contract the client wrote for.
    /// </summary>
    public static string IdempotencyKeyOf(KafkaJobRequest request) =>
        (request.Shape == KafkaRequestShape.CaptionService ? CaptionServiceKeyPrefix : KafkaKeyPrefix) + request.CorrelationId;

    /// <summary>The message that answers a finished job on the response topic, in the shape its request came in.</summary>
    public static Message<string, byte[]> ResponseOf(Job job)
    {
        var correlationId = CorrelationIdOf(job);
        var captionService = job.IdempotencyKey?.StartsWith(CaptionServiceKeyPrefix, StringComparison.Ordinal) == true;
        return new Message<string, byte[]>
        {
            Key = correlationId,
            Value = captionService ? KafkaCaptionResponse.From(job, correlationId).ToUtf8() : KafkaJobResponse.From(job, correlationId).ToUtf8(),
        };
    }

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
                    // The intake answers the client; for the queue it is only a message to pass.
                    logger?.LogDebug("Passing an unreadable Kafka request at {Partition}:{Offset}: {Error}", partition, offset, e.Message);
                    Commit(partition, offset);
                    continue;
                }
                if (request.JobId is null)
                {
                    // A client's request: the intake's to submit. The job it becomes comes back here by id.
                    Commit(partition, offset);
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

    /// <summary>Answers a finished job on the response topic, then lets its offset be committed.</summary>
    public async Task AckAsync(JobDelivery delivery, CancellationToken cancellationToken)
    {
        var job = await store.GetAsync(delivery.JobId, cancellationToken);
        if (job is { IsFinished: true })
            await Producer.ProduceAsync(responseTopic, ResponseOf(job), cancellationToken);
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
