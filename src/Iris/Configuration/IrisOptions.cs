namespace Iris.Configuration;

/// <summary>
/// The whole configuration of Iris as one typed tree. Bound from appsettings.json, then environment
/// variables <c>IRIS__Section__Key</c>, then command-line flags; each key is documented in the README.
/// </summary>
public sealed class IrisOptions
{
    public ServerOptions Server { get; init; } = new();
    public ModelsOptions Models { get; init; } = new();
    public InferenceOptions Inference { get; init; } = new();
    public ImagesOptions Images { get; init; } = new();
    public DetectionOptions Detection { get; init; } = new();
    public LogOptions Log { get; init; } = new();
    public JobsOptions Jobs { get; init; } = new();
}

public sealed class ServerOptions
{
    /// <summary>Semicolon-separated listen URLs.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public int ShutdownTimeoutSeconds { get; init; } = 30;
}

public sealed class ModelsOptions
{
    /// <summary>Where pulled models live, one folder per model.</summary>
    public string CacheDirectory { get; init; } = "data/models";

    /// <summary>A local directory laid out like shared/models to copy models from instead of downloading.</summary>
    public string? Mirror { get; init; }

    /// <summary>Comma-separated models the server loads and reports in readiness.</summary>
    public string Enabled { get; init; } = "yolox-nano";

    public IReadOnlyList<string> EnabledModels =>
        Enabled.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Load enabled models when the server starts (true) or on their first request (false).</summary>
    public bool LoadOnStartup { get; init; } = true;

    /// <summary>Pull a model that is not in the cache when it is first needed.</summary>
    public bool AutoPull { get; init; } = true;

    /// <summary>Check every file's sha256 before loading a model.</summary>
    public bool VerifyOnLoad { get; init; } = true;

    public int DownloadAttempts { get; init; } = 5;
    public int DownloadTimeoutSeconds { get; init; } = 600;
}

public sealed class InferenceOptions
{
    /// <summary>Threads ONNX Runtime uses inside one operator; 0 = one per core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads for running independent operators in parallel (ExecutionMode=parallel); 0 = default.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>disabled, basic, extended or all.</summary>
    public string GraphOptimization { get; init; } = "all";

    /// <summary>sequential or parallel.</summary>
    public string ExecutionMode { get; init; } = "sequential";

    /// <summary>Inference runs allowed at once per model; 0 = unlimited. 1 keeps intra-op threads from fighting each other.</summary>
    public int MaxConcurrentRuns { get; init; } = 1;
}

public sealed class ImagesOptions
{
    public long MaxBytes { get; init; } = 20_000_000;
    public long MaxPixels { get; init; } = 40_000_000;
    public int DecodeTimeoutMs { get; init; } = 10_000;
}

public sealed class DetectionOptions
{
    /// <summary>The detector used when a request names none.</summary>
    public string Model { get; init; } = "yolox-nano";
    public float MinConfidence { get; init; } = 0.4f;
    public int MaxDetections { get; init; } = 100;
}

public sealed class LogOptions
{
    /// <summary>json (one JSON object per line) or text.</summary>
    public string Format { get; init; } = "json";

    /// <summary>Verbose, Debug, Information, Warning, Error or Fatal.</summary>
    public string Level { get; init; } = "Information";
}
