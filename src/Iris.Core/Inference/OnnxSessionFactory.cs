using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Inference;

/// <summary>Creates ONNX Runtime sessions with the configured threading and graph optimisation.</summary>
public sealed class OnnxSessionFactory(InferenceSettings settings)
{
    public InferenceSettings Settings => settings;

    public InferenceSession Create(string modelPath) => Create(modelPath, settings.IntraOpThreads);

    /// <summary>A session with its own intra-op thread count, for models that run many small inputs side by side.</summary>
    public InferenceSession Create(string modelPath, int intraOpThreads)
    {
        using var options = Options(intraOpThreads);
        return new InferenceSession(modelPath, options);
    }

    /// <summary>A session over a model held in memory, such as a graph Iris rewrote at load time.</summary>
    public InferenceSession Create(byte[] model)
    {
        using var options = Options(settings.IntraOpThreads);
        return new InferenceSession(model, options);
    }

    private SessionOptions Options(int intraOpThreads)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = settings.GraphOptimization,
            ExecutionMode = settings.ExecutionMode,
            // Warnings such as "initializer appears in graph inputs" (old exporters) are noise, not news.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (intraOpThreads > 0) options.IntraOpNumThreads = intraOpThreads;
        if (settings.InterOpThreads > 0) options.InterOpNumThreads = settings.InterOpThreads;
        return options;
    }
}
