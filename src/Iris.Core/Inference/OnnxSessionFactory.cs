using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Inference;

/// <summary>
/// Creates ONNX Runtime sessions with the configured threading and graph optimisation.
/// </summary>
/// <remarks>
/// The default (<c>Inference:IntraOpThreads=0</c>) is one thread budget for the whole process: ONNX Runtime's global
/// intra-op pool, one thread per core of the <see cref="CpuBudget"/>, shared by every session (each session would
/// otherwise own a pool of one thread per core, and <c>/v1/analyze</c> runs up to five models). A run alone on an idle
/// server spreads its operators over every core (lowest latency); runs side by side share the same threads, so the
/// cores are never oversubscribed however many models run. The pool's threads sleep rather than spin between
/// operators (<c>Inference:Spinning</c>): under concurrency a spinning thread steals the core a decode or another run
/// needs. The pool belongs to the process environment, which ONNX Runtime creates once; if a session was made before
/// this factory could create it (a tool that made its own), sessions fall back to pools of their own of the same size.
/// A positive <c>IntraOpThreads</c> is the expert override: every session gets a pool of its own of that many threads.
/// </remarks>
public sealed class OnnxSessionFactory(InferenceSettings settings)
{
    private static readonly object EnvironmentLock = new();
    private static int _sharedThreads;

    public InferenceSettings Settings => settings;

    /// <summary>Threads in the process-wide pool; 0 when sessions have pools of their own.</summary>
    public static int SharedThreads => Volatile.Read(ref _sharedThreads);

    public InferenceSession Create(string modelPath)
    {
        using var options = Options();
        return new InferenceSession(modelPath, options);
    }

    /// <summary>A session with its own intra-op thread count, for models that run many small inputs side by side.</summary>
    public InferenceSession Create(string modelPath, int intraOpThreads)
    {
        using var options = Options(intraOpThreads);
        return new InferenceSession(modelPath, options);
    }

    /// <summary>A session over a model held in memory, such as a graph Iris rewrote at load time.</summary>
    public InferenceSession Create(byte[] model)
    {
        using var options = Options();
        return new InferenceSession(model, options);
    }

    private SessionOptions Options()
    {
        if (settings.IntraOpThreads == 0 && SharedPool())
        {
            var shared = Base();
            shared.DisablePerSessionThreads();
            return shared;
        }
        return Options(settings.Threads);
    }

    private SessionOptions Options(int intraOpThreads)
    {
        var options = Base();
        options.IntraOpNumThreads = Math.Max(1, intraOpThreads);
        if (settings.InterOpThreads > 0) options.InterOpNumThreads = settings.InterOpThreads;
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", settings.Spinning ? "1" : "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", settings.Spinning ? "1" : "0");
        return options;
    }

    private SessionOptions Base() => new()
    {
        GraphOptimizationLevel = settings.GraphOptimization,
        ExecutionMode = settings.ExecutionMode,
        // Warnings such as "initializer appears in graph inputs" (old exporters) are noise, not news.
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };

    /// <summary>Creates the process environment with the shared pool if nothing has created it yet; false if it exists without one.</summary>
    private bool SharedPool()
    {
        if (SharedThreads > 0) return true;
        lock (EnvironmentLock)
        {
            if (_sharedThreads > 0) return true;
            if (OrtEnv.IsCreated) return false;
            using var threading = new OrtThreadingOptions
            {
                GlobalIntraOpNumThreads = settings.Threads,
                GlobalInterOpNumThreads = Math.Max(1, settings.InterOpThreads),
                GlobalSpinControl = settings.Spinning,
            };
            var environment = new EnvironmentCreationOptions { threadOptions = threading, logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            OrtEnv.CreateInstanceWithOptions(ref environment);
            Volatile.Write(ref _sharedThreads, settings.Threads);
            return true;
        }
    }
}
