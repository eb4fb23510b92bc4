using Iris.Core.Inference.Batching;

namespace Iris.Configuration;

/// <summary>
/// Dynamic batching (<c>Inference:Batching</c>): concurrent requests to a model whose graph takes a batch run as one
/// ONNX Runtime call. A lone request never waits for company, so the defaults cost a single caller nothing.
/// </summary>
public sealed class BatchingOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>Most requests in one run.</summary>
    public int MaxBatch { get; init; } = 8;

    /// <summary>How long a partial batch may wait for more requests while another batch of its model runs.</summary>
    public int MaxDelayMs { get; init; } = 2;

    /// <summary>Requests allowed to wait for a batch per model; beyond it, 503 with Retry-After.</summary>
    public int MaxQueue { get; init; } = 64;

    /// <summary>Overrides by model name, e.g. <c>Inference:Batching:Models:yolox-nano:MaxBatch</c>.</summary>
    public Dictionary<string, BatchingModelOptions> Models { get; init; } = new(StringComparer.Ordinal);

    public static void Validate(BatchingOptions o, List<string> errors)
    {
        Check("Inference:Batching", o.MaxBatch, o.MaxDelayMs, o.MaxQueue, errors);
        foreach (var (model, m) in o.Models)
            Check($"Inference:Batching:Models:{model}", m.MaxBatch ?? o.MaxBatch, m.MaxDelayMs ?? o.MaxDelayMs, m.MaxQueue ?? o.MaxQueue, errors);
    }

    private static void Check(string prefix, int maxBatch, int maxDelayMs, int maxQueue, List<string> errors)
    {
        if (maxBatch is < 1 or > 256) errors.Add($"{prefix}:MaxBatch must be between 1 and 256; got {maxBatch}.");
        if (maxDelayMs is < 0 or > 1000) errors.Add($"{prefix}:MaxDelayMs must be between 0 and 1000; got {maxDelayMs}.");
        if (maxQueue < maxBatch || maxQueue > 100_000)
            errors.Add($"{prefix}:MaxQueue must be at least MaxBatch ({maxBatch}) and at most 100000; got {maxQueue}.");
    }

    public BatchingSettings ToSettings() => new(
        Policy(Enabled, MaxBatch, MaxDelayMs, MaxQueue),
        Models.ToDictionary(m => m.Key,
            m => Policy(m.Value.Enabled ?? Enabled, m.Value.MaxBatch ?? MaxBatch, m.Value.MaxDelayMs ?? MaxDelayMs, m.Value.MaxQueue ?? MaxQueue), StringComparer.Ordinal));

    private static BatchingPolicy Policy(bool enabled, int maxBatch, int maxDelayMs, int maxQueue) =>
        enabled && maxBatch > 1 ? new BatchingPolicy(maxBatch, TimeSpan.FromMilliseconds(maxDelayMs), maxQueue) : BatchingPolicy.Off;
}

/// <summary>One model's batching, where it differs from <see cref="BatchingOptions"/>.</summary>
public sealed class BatchingModelOptions
{
    public bool? Enabled { get; init; }
    public int? MaxBatch { get; init; }
    public int? MaxDelayMs { get; init; }
    public int? MaxQueue { get; init; }
}
