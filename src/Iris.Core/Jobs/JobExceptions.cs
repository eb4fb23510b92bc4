namespace Iris.Core.Jobs;

public sealed class JobNotFoundException(string id) : Exception($"There is no job '{id}'.")
{
    public string JobId { get; } = id;
}

/// <summary>The job is not in a state that allows the operation (e.g. canceling a job that already runs).</summary>
public sealed class JobStateConflictException(string message) : Exception(message);

/// <summary>Backpressure: the queue holds as many jobs as it may; the caller should retry after <see cref="RetryAfter"/>.</summary>
public sealed class JobQueueFullException(long queued, int max, TimeSpan retryAfter)
    : Exception($"{queued:N0} jobs are already queued; the limit is {max:N0} (Jobs:MaxQueued). Retry after {retryAfter.TotalSeconds:N0} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>A submission that can never be processed as sent (unknown task, bad parameter); answered with 400.</summary>
public sealed class InvalidJobRequestException(string message, string? parameter = null) : Exception(message)
{
    public string? Parameter { get; } = parameter;
}

/// <summary>A job that will fail the same way however often it is retried (e.g. its input image is corrupt).</summary>
public sealed class PermanentJobFailureException(string message, Exception? inner = null) : Exception(message, inner);
