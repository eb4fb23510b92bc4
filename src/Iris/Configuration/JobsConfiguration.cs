using System.Globalization;
using Iris.Core.Jobs;

namespace Iris.Configuration;

/// <summary>Validation of the <c>Jobs</c> section and its translation into the domain's <see cref="JobSettings"/>.</summary>
public static class JobsConfiguration
{
    public static void Validate(JobsOptions o, List<string> errors)
    {
        void Range(string key, double value, double min, double max)
        {
            if (double.IsNaN(value) || value < min || value > max)
                errors.Add($"{key} must be between {min} and {max}; got {value} (set it in appsettings.json or as IRIS__{key.Replace(":", "__")}).");
        }
        void OneOf(string key, string value, params string[] allowed)
        {
            if (!allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
                errors.Add($"{key} must be one of {string.Join(", ", allowed)}; got '{value}' (set it in appsettings.json or as IRIS__{key.Replace(":", "__")}).");
        }
        OneOf("Jobs:Store", o.Store, "sqlite", "postgres");
        OneOf("Jobs:Queue", o.Queue, "embedded", "redis", "rabbitmq", "kafka");
        if (o.Queue.Equals("embedded", StringComparison.OrdinalIgnoreCase) && !o.Store.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
            errors.Add("Jobs:Queue=embedded keeps its queue in the SQLite job database, so it needs Jobs:Store=sqlite; with postgres, choose redis, rabbitmq or kafka.");
        if (string.IsNullOrWhiteSpace(o.Database)) errors.Add("Jobs:Database must be a file path, e.g. data/jobs.db.");
        if (string.IsNullOrWhiteSpace(o.InputDirectory)) errors.Add("Jobs:InputDirectory must be a directory path, e.g. data/job-inputs.");
        Range("Jobs:Workers", o.Workers, 0, 1024);
        Range("Jobs:MaxAttempts", o.MaxAttempts, 1, 100);
        Range("Jobs:RetryBaseDelaySeconds", o.RetryBaseDelaySeconds, 0, 3600);
        Range("Jobs:LeaseSeconds", o.LeaseSeconds, 1, 86_400);
        Range("Jobs:MaxQueued", o.MaxQueued, 1, 100_000_000);
        Range("Jobs:RetryAfterSeconds", o.RetryAfterSeconds, 1, 3600);
        Range("Jobs:PollIntervalMs", o.PollIntervalMs, 10, 60_000);
        Range("Jobs:ShutdownGraceSeconds", o.ShutdownGraceSeconds, 0, 3600);
        Range("Jobs:RecoverAfterSeconds", o.RecoverAfterSeconds, 1, 604_800);
        if (o.RecoverAfterSeconds < o.LeaseSeconds * 2)
            errors.Add($"Jobs:RecoverAfterSeconds ({o.RecoverAfterSeconds}) must be at least twice Jobs:LeaseSeconds ({o.LeaseSeconds}), or jobs of live workers would be re-enqueued.");
        Range("Jobs:WebhookMaxAttempts", o.WebhookMaxAttempts, 1, 100);
        Range("Jobs:WebhookBaseDelaySeconds", o.WebhookBaseDelaySeconds, 0, 3600);
        Range("Jobs:RabbitMq:Prefetch", o.RabbitMq.Prefetch, 1, 65_535);
        if (o.Queue.Equals("kafka", StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(o.Kafka.BootstrapServers)) errors.Add("Jobs:Kafka:BootstrapServers must list the brokers, e.g. kafka1:9092,kafka2:9092.");
            if (string.IsNullOrWhiteSpace(o.Kafka.RequestTopic) || string.IsNullOrWhiteSpace(o.Kafka.ResponseTopic))
                errors.Add("Jobs:Kafka:RequestTopic and Jobs:Kafka:ResponseTopic must name topics, e.g. descRequests and descResponses.");
            else if (o.Kafka.RequestTopic == o.Kafka.ResponseTopic)
                errors.Add($"Jobs:Kafka:RequestTopic and Jobs:Kafka:ResponseTopic must differ; both are '{o.Kafka.RequestTopic}'.");
            if (string.IsNullOrWhiteSpace(o.Kafka.GroupId)) errors.Add("Jobs:Kafka:GroupId must name the workers' consumer group, e.g. iris-workers.");
        }
        if (ParseSpan(o.Retention) is not { } retention || retention < TimeSpan.Zero)
            errors.Add($"Jobs:Retention must be a duration such as 7.00:00:00 (7 days) or 0 to keep finished jobs forever; got '{o.Retention}' (set it in appsettings.json or as IRIS__Jobs__Retention).");
        if (ParseSpan(o.RetentionSweepInterval) is not { } interval || interval <= TimeSpan.Zero)
            errors.Add($"Jobs:RetentionSweepInterval must be a positive duration such as 00:10:00 (10 minutes); got '{o.RetentionSweepInterval}' (set it in appsettings.json or as IRIS__Jobs__RetentionSweepInterval).");
        if (JobsOptions.Split(o.DefaultTasks).Count == 0) errors.Add("Jobs:DefaultTasks must name at least one task, e.g. detect.");
        if (JobsOptions.Split(o.CompatTasks).Count == 0) errors.Add("Jobs:CompatTasks must name at least one task, e.g. describe.");
        try { ParseConcurrency(o.TaskConcurrency); }
        catch (FormatException e) { errors.Add(e.Message); }
    }

    public static JobSettings Settings(this JobsOptions o) => new()
    {
        MaxAttempts = o.MaxAttempts,
        RetryBaseDelay = TimeSpan.FromSeconds(o.RetryBaseDelaySeconds),
        Lease = TimeSpan.FromSeconds(o.LeaseSeconds),
        MaxQueued = o.MaxQueued,
        RetryAfter = TimeSpan.FromSeconds(o.RetryAfterSeconds),
        TaskConcurrency = ParseConcurrency(o.TaskConcurrency),
        ShutdownGrace = TimeSpan.FromSeconds(o.ShutdownGraceSeconds),
        WebhookSecret = string.IsNullOrEmpty(o.WebhookSecret) ? null : o.WebhookSecret,
        WebhookMaxAttempts = o.WebhookMaxAttempts,
        WebhookBaseDelay = TimeSpan.FromSeconds(o.WebhookBaseDelaySeconds),
        Retention = ParseSpan(o.Retention) ?? TimeSpan.Zero,
        RetentionSweepInterval = ParseSpan(o.RetentionSweepInterval) ?? TimeSpan.FromMinutes(10),
    };

    /// <summary>A TimeSpan in the invariant "d.hh:mm:ss" form; empty means zero, unparsable null.</summary>
    private static TimeSpan? ParseSpan(string? value) =>
        string.IsNullOrWhiteSpace(value) ? TimeSpan.Zero
        : TimeSpan.TryParse(value.Trim(), CultureInfo.InvariantCulture, out var span) ? span : null;

    private static Dictionary<string, int> ParseConcurrency(string value)
    {
        var limits = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in JobsOptions.Split(value))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 1)
                throw new FormatException($"Jobs:TaskConcurrency must look like 'describe=1,detect=2' (task=limit, limit ≥ 1); '{pair}' does not.");
            limits[parts[0]] = n;
        }
        return limits;
    }
}
