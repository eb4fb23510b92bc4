namespace Iris.Core.Inference.Batching;

/// <summary>
/// How one model batches concurrent requests (<c>Inference:Batching</c>, overridable per model by name).
/// </summary>
/// <param name="MaxBatch">Most inputs in one ONNX Runtime run; 1 turns batching off.</param>
/// <param name="MaxDelay">How long a partial batch may wait for more requests, and only while another batch of the
/// same model is running (its cores are busy anyway): a request to an idle model runs at once.</param>
/// <param name="MaxQueue">Requests allowed to wait for a batch; the next one is refused (503 with Retry-After).</param>
public sealed record BatchingPolicy(int MaxBatch, TimeSpan MaxDelay, int MaxQueue)
{
    public static readonly BatchingPolicy Off = new(1, TimeSpan.Zero, 0);

    public bool Enabled => MaxBatch > 1;
}

/// <summary>The batching policy of every model: a default and overrides by model name.</summary>
public sealed record BatchingSettings(BatchingPolicy Default, IReadOnlyDictionary<string, BatchingPolicy>? PerModel = null)
{
    public static readonly BatchingSettings Off = new(BatchingPolicy.Off);

    public BatchingPolicy For(string model) => PerModel?.GetValueOrDefault(model) ?? Default;
}
