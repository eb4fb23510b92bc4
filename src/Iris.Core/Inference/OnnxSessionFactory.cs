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
/// needs. Detection, face, classifier and text-detection models go further (<see cref="InferenceSettings.UsesAdaptiveSessions"/>): a lone
/// run spins on a pool of its own (<see cref="CreateLoneRun"/>), every other run takes one thread
/// (<see cref="CreateConcurrentRun(string)"/>), so under load one run per core executes without any pool hand-offs. The
/// pool belongs to the process environment, which ONNX Runtime creates once; if a session was made before
/// this factory could create it (a tool that made its own), sessions fall back to pools of their own of the same size.
/// A positive <c>IntraOpThreads</c> is the expert override: every session gets a pool of its own of that many threads.
/// </remarks>
public sealed class OnnxSessionFactory
{
    private static readonly object EnvironmentLock = new();
    private static int _sharedThreads;

    private readonly InferenceSettings _settings;

    /// <summary>With auto threads, creates the process environment and its shared pool now, before any session exists.</summary>
    public OnnxSessionFactory(InferenceSettings settings)
    {
        _settings = settings;
        if (settings.IntraOpThreads == 0) SharedPool();
    }

    public InferenceSettings Settings => _settings;

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

    /// <summary>
    /// The session that a model with a lone-run session (<see cref="CreateLoneRun"/>) uses for all its other runs: one
    /// thread and no pool under <see cref="InferenceSettings.UsesAdaptiveSessions"/>, the shared pool otherwise.
    /// </summary>
    /// <remarks>
    /// Such a run shares the process with other runs or with decodes, so one run per core on one thread each is what
    /// keeps the cores busy: splitting every operator between a caller and a sleeping pool thread costs the handover and
    /// the wake-up each time. YOLOX-Nano on 2 cores, two callers: 7.3 CPU ms per image on one thread each against 10.0 on
    /// two-thread pools; <c>/v1/detect</c> at 4 callers +11 % images/s, −13 % server CPU per image (bench/README.md,
    /// "Throughput engine, part 4").
    /// </remarks>
    public InferenceSession CreateConcurrentRun(string modelPath)
    {
        using var options = ConcurrentRunOptions();
        return new InferenceSession(modelPath, options);
    }

    /// <summary><see cref="CreateConcurrentRun(string)"/> for a model held in memory (a graph Iris rewrote, such as a batched one).</summary>
    public InferenceSession CreateConcurrentRun(byte[] model)
    {
        using var options = ConcurrentRunOptions();
        return new InferenceSession(model, options);
    }

    /// <summary>
    /// The model's session for lone runs (<see cref="InferenceSettings.UsesAdaptiveSessions"/>), or null when the settings
    /// do not call for one. It has a pool of its own of one thread per core, whose threads spin between operators while a
    /// run lasts and stop when it ends (<c>session.force_spinning_stop</c>).
    /// </summary>
    /// <remarks>
    /// Measured on YOLOX-Nano on 2 cores (bench/README.md, "Lone runs"): the shared pool's sleeping threads are woken for
    /// each of the graph's parallel operators, so a run alone took 7.2 ms against 5.2 ms with spinning threads; but
    /// threads that spin while other runs and decodes need the cores cost more than they save (global spinning: −20 %
    /// images/s at 4 callers; lone-run spinning decided by runs alone: −11 % at 2 callers, whose decodes it starved). So
    /// spinning is used only by a run that has the process to itself (<see cref="RunGate"/>: no other run, no other
    /// pipeline call, for a second), on this second session; every other run takes <see cref="CreateConcurrentRun(string)"/>.
    /// </remarks>
    public InferenceSession? CreateLoneRun(string modelPath)
    {
        if (!_settings.UsesAdaptiveSessions) return null;
        using var options = Base();
        options.IntraOpNumThreads = _settings.Threads;
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "1");
        options.AddSessionConfigEntry("session.force_spinning_stop", "1");
        return new InferenceSession(modelPath, options);
    }

    /// <summary>A session over a model held in memory, such as a graph Iris rewrote at load time.</summary>
    public InferenceSession Create(byte[] model)
    {
        using var options = Options();
        return new InferenceSession(model, options);
    }

    private SessionOptions ConcurrentRunOptions() => _settings.UsesAdaptiveSessions ? Options(1) : Options();

    private SessionOptions Options()
    {
        if (_settings.IntraOpThreads == 0 && SharedPool())
        {
            var shared = Base();
            shared.DisablePerSessionThreads();
            return shared;
        }
        return Options(_settings.Threads);
    }

    private SessionOptions Options(int intraOpThreads)
    {
        var options = Base();
        options.IntraOpNumThreads = Math.Max(1, intraOpThreads);
        if (_settings.InterOpThreads > 0) options.InterOpNumThreads = _settings.InterOpThreads;
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", _settings.Spinning ? "1" : "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", _settings.Spinning ? "1" : "0");
        return options;
    }

    private SessionOptions Base() => new()
    {
        GraphOptimizationLevel = _settings.GraphOptimization,
        ExecutionMode = _settings.ExecutionMode,
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
                GlobalIntraOpNumThreads = _settings.Threads,
                GlobalInterOpNumThreads = Math.Max(1, _settings.InterOpThreads),
                GlobalSpinControl = _settings.Spinning,
            };
            var environment = new EnvironmentCreationOptions { threadOptions = threading, logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            try
            {
                OrtEnv.CreateInstanceWithOptions(ref environment);
            }
            catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException)
            {
                // Another thread made a session (and with it the default environment) in the meantime.
                return false;
            }
            Volatile.Write(ref _sharedThreads, _settings.Threads);
            return true;
        }
    }
}
