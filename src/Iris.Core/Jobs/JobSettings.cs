namespace Iris.Core.Jobs;

/// <summary>The job machinery's settings, built from the <c>Jobs</c> options section.</summary>
public sealed record JobSettings
{
    /// <summary>Attempts before a job is failed for good (the first run counts).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Delay before the first retry; doubles for each later one.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a worker may hold a job without a heartbeat before another worker takes it over.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Queued jobs beyond which submissions are refused with 429.</summary>
    public int MaxQueued { get; init; } = 10_000;

    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Maximum jobs running at once per task name (absent: limited only by the worker count).</summary>
    public IReadOnlyDictionary<string, int> TaskConcurrency { get; init; } = new Dictionary<string, int>();

    /// <summary>How long shutdown lets in-flight jobs finish before handing them back to the queue.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(20);

    public string? WebhookSecret { get; init; }
    public int WebhookMaxAttempts { get; init; } = 5;
    public TimeSpan WebhookBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a finished job (its row, result, input and webhook record) is kept; zero keeps it forever.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(7);

    public TimeSpan RetentionSweepInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Exponential backoff: base · 2^(attempt−1), capped at one hour.</summary>
    public TimeSpan RetryDelay(int attemptsSoFar) => Backoff(RetryBaseDelay, attemptsSoFar);

    /// <summary>The wait after a failed webhook attempt, with the same backoff as job retries.</summary>
    public TimeSpan WebhookDelay(int attemptsSoFar) => Backoff(WebhookBaseDelay, attemptsSoFar);

    private static TimeSpan Backoff(TimeSpan baseDelay, int attemptsSoFar) =>
        TimeSpan.FromMilliseconds(Math.Min(baseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attemptsSoFar - 1)), 3_600_000));
}
