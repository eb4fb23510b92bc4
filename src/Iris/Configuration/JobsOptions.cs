namespace Iris.Configuration;

/// <summary>The <c>Jobs</c> section: where jobs are stored, how they are queued, and how workers run them.</summary>
public sealed class JobsOptions
{
    /// <summary>sqlite (default, embedded) or postgres.</summary>
    public string Store { get; init; } = "sqlite";

    /// <summary>embedded (default: a table in the SQLite job database), redis, rabbitmq or kafka.</summary>
    public string Queue { get; init; } = "embedded";

    /// <summary>The SQLite job database (job store and embedded queue).</summary>
    public string Database { get; init; } = "data/jobs.db";

    /// <summary>Where submitted images wait for their workers. Workers on other machines need it shared.</summary>
    public string InputDirectory { get; init; } = "data/job-inputs";

    /// <summary>Jobs run at once inside <c>iris serve</c>; 0 makes an API-only node. <c>iris worker</c> has its own --concurrency.</summary>
    public int Workers { get; init; } = 1;

    public int MaxAttempts { get; init; } = 3;
    public double RetryBaseDelaySeconds { get; init; } = 2;
    public double LeaseSeconds { get; init; } = 30;
    public int MaxQueued { get; init; } = 10_000;
    public int RetryAfterSeconds { get; init; } = 5;
    public int PollIntervalMs { get; init; } = 250;
    public double ShutdownGraceSeconds { get; init; } = 20;

    /// <summary>A job queued (or held without heartbeat) this long is re-enqueued, in case the queue lost it.</summary>
    public double RecoverAfterSeconds { get; init; } = 300;

    /// <summary>Tasks a job runs when its submission names none.</summary>
    public string DefaultTasks { get; init; } = "detect";

    /// <summary>Tasks run by the compatibility routes (/api/v1/submit); describe once captioning is served.</summary>
    public string CompatTasks { get; init; } = "describe";

    /// <summary>Per-task limits on jobs running at once, e.g. "describe=1,detect=2".</summary>
    public string TaskConcurrency { get; init; } = "";

    /// <summary>HMAC-SHA256 key for webhook signatures; callback_url is refused while it is unset.</summary>
    public string? WebhookSecret { get; init; }
    public int WebhookMaxAttempts { get; init; } = 5;

    /// <summary>
    /// Let callback_url reach loopback and private addresses (checked where the socket opens, as for source URLs).
    /// Off, a caller cannot aim webhooks at the server's own network: metadata services, databases, admin ports.
    /// </summary>
    public bool WebhookAllowPrivateNetworks { get; init; }
    public double WebhookBaseDelaySeconds { get; init; } = 1;

    /// <summary>How long a finished job and all it owns is kept after it finished (d.hh:mm:ss); 0 or empty keeps jobs forever.</summary>
    public string? Retention { get; init; } = "7.00:00:00";

    /// <summary>How often the retention sweep runs (hh:mm:ss).</summary>
    public string RetentionSweepInterval { get; init; } = "00:10:00";

    public PostgresJobsOptions Postgres { get; init; } = new();
    public RedisJobsOptions Redis { get; init; } = new();
    public RabbitMqJobsOptions RabbitMq { get; init; } = new();
    public KafkaJobsOptions Kafka { get; init; } = new();

    public IReadOnlyList<string> DefaultTaskList => Split(DefaultTasks);

    public static IReadOnlyList<string> Split(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class PostgresJobsOptions
{
    public string ConnectionString { get; init; } = "Host=127.0.0.1;Port=5432;Database=iris;Username=iris";
}

public sealed class RedisJobsOptions
{
    public string ConnectionString { get; init; } = "127.0.0.1:6379";
    public string Stream { get; init; } = "iris:jobs";
    public string Group { get; init; } = "iris-workers";
}

public sealed class RabbitMqJobsOptions
{
    public string Uri { get; init; } = "amqp://guest:guest@127.0.0.1:5672/";
    public string Queue { get; init; } = "iris.jobs";
    public int Prefetch { get; init; } = 16;
}

public sealed class KafkaJobsOptions
{
    public string BootstrapServers { get; init; } = "127.0.0.1:9092";
    public string RequestTopic { get; init; } = "descRequests";
    public string ResponseTopic { get; init; } = "descResponses";
    public string GroupId { get; init; } = "iris-workers";
}
