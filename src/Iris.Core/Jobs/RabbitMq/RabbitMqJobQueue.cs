using System.Globalization;
using System.Text;
using System.Threading.Channels;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Iris.Core.Jobs.RabbitMq;

/// <summary>
/// A queue on RabbitMQ: a durable queue of persistent messages, published with confirms (the broker has written a
/// job id before the submission is answered), consumed with manual acks and a prefetch limit. A worker that dies
/// loses its connection and the broker redelivers its unacked messages at once, so no lease is needed. Retry
/// backoff goes through a TTL queue that dead-letters back into the main queue when the delay expires; messages
/// the worker cannot read are rejected into the dead-letter exchange (<c>{queue}.dlx</c> → <c>{queue}.dead</c>).
/// </summary>
public sealed class RabbitMqJobQueue(string uri, string queue, ushort prefetch) : IJobQueue, IJobQueueProbe
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private IConnection? _connection;
    private IChannel? _publisher;
    private IChannel? _consumer;
    private Channel<(ulong Tag, string Body, bool Redelivered, int Generation)>? _inbox;
    private int _generation;

    private string RetryQueue => queue + ".retry";
    private string DeadLetterExchange => queue + ".dlx";
    private string DeadLetterQueue => queue + ".dead";

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory { Uri = new Uri(uri), AutomaticRecoveryEnabled = false, ClientProvidedName = "iris" };
        _connection = await factory.CreateConnectionAsync(cancellationToken);
        _publisher = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        await _publisher.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await _publisher.QueueDeclareAsync(DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        await _publisher.QueueBindAsync(DeadLetterQueue, DeadLetterExchange, "", cancellationToken: cancellationToken);
        await _publisher.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-dead-letter-exchange"] = DeadLetterExchange }, cancellationToken: cancellationToken);
        // Expired messages leave the retry queue through the default exchange, straight into the main queue.
        await _publisher.QueueDeclareAsync(RetryQueue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-dead-letter-exchange"] = "", ["x-dead-letter-routing-key"] = queue }, cancellationToken: cancellationToken);
    }

    public async Task EnqueueAsync(string jobId, TimeSpan delay, CancellationToken cancellationToken)
    {
        var properties = new BasicProperties { Persistent = true, ContentType = "text/plain", MessageId = jobId };
        if (delay > TimeSpan.Zero)
            properties.Expiration = ((long)Math.Ceiling(delay.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_connection is not { IsOpen: true } || _publisher is not { IsOpen: true })
                await InitializeAsync(cancellationToken);
            // With confirmation tracking on, this returns once the broker has taken responsibility for the message.
            await Publisher.BasicPublishAsync("", delay > TimeSpan.Zero ? RetryQueue : queue, mandatory: true, properties, Encoding.UTF8.GetBytes(jobId), cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    private IChannel Publisher => _publisher ?? throw new InvalidOperationException("InitializeAsync was not called.");

    public async Task<JobDelivery?> ReceiveAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var inbox = await EnsureConsumerAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        while (true)
        {
            (ulong Tag, string Body, bool Redelivered, int Generation) message;
            try
            {
                message = await inbox.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            catch (ChannelClosedException)
            {
                return null; // the consumer channel died; the next call opens a new one
            }
            if (message.Body.Length == 32 && message.Body.All(char.IsAsciiHexDigitLower))
                return new JobDelivery(message.Body, $"{message.Generation}:{message.Tag}", message.Redelivered ? 2 : 1);
            // Not a job id: no worker can ever handle it, so it goes to the dead-letter queue for a human to look at.
            await _lock.WaitAsync(cancellationToken);
            try { await _consumer!.BasicNackAsync(message.Tag, multiple: false, requeue: false, cancellationToken); }
            finally { _lock.Release(); }
        }
    }

    private async Task<Channel<(ulong, string, bool, int)>> EnsureConsumerAsync(CancellationToken cancellationToken)
    {
        if (_consumer is { IsOpen: true } && _inbox is not null) return _inbox;
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_consumer is { IsOpen: true } && _inbox is not null) return _inbox;
            if (_connection is not { IsOpen: true })
            {
                // The broker restarted or the network dropped: reconnect (the broker has requeued our unacked messages).
                await InitializeAsync(cancellationToken);
            }
            var generation = Interlocked.Increment(ref _generation);
            var inbox = Channel.CreateUnbounded<(ulong, string, bool, int)>();
            var channel = await _connection!.CreateChannelAsync(cancellationToken: cancellationToken);
            await channel.BasicQosAsync(0, prefetch, global: false, cancellationToken);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, e) =>
            {
                inbox.Writer.TryWrite((e.DeliveryTag, Encoding.UTF8.GetString(e.Body.Span), e.Redelivered, generation));
                return Task.CompletedTask;
            };
            consumer.ShutdownAsync += (_, _) =>
            {
                inbox.Writer.TryComplete();
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken);
            _consumer = channel;
            _inbox = inbox;
            return inbox;
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task AckAsync(JobDelivery delivery, CancellationToken cancellationToken)
    {
        var (generation, tag) = Parse(delivery.Token);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            // A tag from a closed channel is meaningless: the broker already requeued that message.
            if (generation == _generation && _consumer is { IsOpen: true })
                await _consumer.BasicAckAsync(tag, multiple: false, cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Nothing to do: an unacked message stays with its consumer for as long as the connection lives.</summary>
    public Task RenewAsync(JobDelivery delivery, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task ReleaseAsync(JobDelivery delivery, TimeSpan delay, CancellationToken cancellationToken)
    {
        await EnqueueAsync(delivery.JobId, delay, cancellationToken);
        await AckAsync(delivery, cancellationToken);
    }

    /// <summary>Messages waiting in the main queue; for tests and diagnostics.</summary>
    public async Task<uint> CountAsync(CancellationToken cancellationToken)
    {
        var ok = await Publisher.QueueDeclarePassiveAsync(queue, cancellationToken);
        return ok.MessageCount;
    }

    /// <summary>
    /// Messages ready in the main queue (the broker's count; unacked and retry-queue messages are not in it). AMQP
    /// cannot tell a message's age without taking it, so the oldest age comes from the job store instead.
    /// </summary>
    public async Task<JobQueueLevel> MeasureAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            return new JobQueueLevel(queue, "rabbitmq", await CountAsync(cancellationToken), null);
        }
        finally
        {
            _lock.Release();
        }
    }

    private static (int Generation, ulong Tag) Parse(string token)
    {
        var colon = token.IndexOf(':');
        return (int.Parse(token[..colon], CultureInfo.InvariantCulture), ulong.Parse(token[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        if (_consumer is not null) await _consumer.DisposeAsync();
        if (_publisher is not null) await _publisher.DisposeAsync();
        if (_connection is not null) await _connection.DisposeAsync();
    }
}
