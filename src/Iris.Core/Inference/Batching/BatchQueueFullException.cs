namespace Iris.Core.Inference.Batching;

/// <summary>
/// A model's batch queue holds <c>MaxQueue</c> waiting requests already: this one is refused rather than left to wait
/// without bound. <see cref="RetryAfter"/> is how long the queue ahead should take to drain.
/// </summary>
public sealed class BatchQueueFullException(string model, int queued, TimeSpan retryAfter)
    : Exception($"Model '{model}' has {queued} requests waiting for a batch (its MaxQueue); retry after {Math.Ceiling(retryAfter.TotalSeconds):0} s.")
{
    public string Model => model;
    public TimeSpan RetryAfter => retryAfter;
}
