using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Reflection;
using Iris.Core.Jobs;

namespace Iris.Core.Telemetry;

/// <summary>
/// Iris's own measurements, on a <see cref="Meter"/> named "Iris" (System.Diagnostics.Metrics, so the domain depends
/// on no exporter): the host exports them through OpenTelemetry to Prometheus at <c>/metrics</c>, next to ASP.NET
/// Core's and the runtime's (<c>iris.model.run.duration</c> in seconds becomes <c>iris_model_run_duration_seconds</c>,
/// counters get <c>_total</c>). Tags stay low-cardinality: model names, stage names, outcomes, image formats.
/// </summary>
public static class IrisMetrics
{
    public const string MeterName = "Iris";

    private static readonly Meter Meter = new(MeterName);

    // Exporters' default buckets are meant for milliseconds; these durations are in seconds.
    private static readonly InstrumentAdvice<double> Fast = new() { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] };
    private static readonly InstrumentAdvice<double> Slow = new() { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] };

    /// <summary>Time one model run held its slot: ONNX Runtime plus the post-processing done with the outputs alive.</summary>
    public static readonly Histogram<double> ModelRunDuration =
        Meter.CreateHistogram("iris.model.run.duration", "s", "Time one model run held its slot (ONNX Runtime and output decoding).", advice: Fast);

    /// <summary>Time a run waited for a slot: non-zero means Inference:MaxConcurrentRuns is the bottleneck.</summary>
    public static readonly Histogram<double> ModelRunWait =
        Meter.CreateHistogram("iris.model.run.wait", "s", "Time a model run waited for a slot (Inference:MaxConcurrentRuns).", advice: Fast);

    /// <summary>Runs refused at a model's gate as overload (503 with Retry-After), by model and reason.</summary>
    public static readonly Counter<long> InferenceRejected =
        Meter.CreateCounter<long>("iris.inference.rejected", "{run}", "Model runs refused because the wait for a slot would exceed Inference:MaxQueueWaitMs, by reason (expected_wait, queue_timeout).");

    /// <summary>Runs that had the process to themselves and ran on the model's spinning lone-run session (Inference:AdaptiveSessions).</summary>
    public static readonly Counter<long> ModelLoneRuns =
        Meter.CreateCounter<long>("iris.model.lone_runs", "{run}", "Model runs that started with no other run in flight and used the model's spinning lone-run session (Inference:AdaptiveSessions).");

    public static readonly UpDownCounter<long> ModelRunsActive =
        Meter.CreateUpDownCounter<long>("iris.model.runs.active", "{run}", "Model runs executing now.");

    /// <summary>Inputs per ONNX Runtime run of a batching model (Inference:Batching); 1 everywhere means no concurrency to batch.</summary>
    public static readonly Histogram<int> ModelBatchSize =
        Meter.CreateHistogram("iris.model.batch.size", "{input}", "Inputs run together in one batch, per model (Inference:Batching).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64] });

    /// <summary>Time a request waited in a model's batch queue before its batch started.</summary>
    public static readonly Histogram<double> ModelBatchQueue =
        Meter.CreateHistogram("iris.model.batch.queue", "s", "Time a request waited in its model's batch queue.", advice: Fast);

    public static readonly Counter<long> ModelBatchRejected =
        Meter.CreateCounter<long>("iris.model.batch.rejected", "{request}", "Requests refused because their model's batch queue was full (MaxQueue).");

    public static readonly Histogram<double> ModelLoadDuration =
        Meter.CreateHistogram("iris.model.load.duration", "s", "Time to load a model (install, verify, create sessions, warm up), by outcome.", advice: Slow);

    /// <summary>Models loaded, by model and reason (start, preload, request, reload_after_unload).</summary>
    public static readonly Counter<long> ModelLoads =
        Meter.CreateCounter<long>("iris.model.loads", "{load}", "Models loaded, by reason (start, preload, request, reload_after_unload).");

    /// <summary>Models unloaded, by model and reason (idle: Models:IdleUnloadAfter; memory_budget: Models:MemoryBudget).</summary>
    public static readonly Counter<long> ModelUnloads =
        Meter.CreateCounter<long>("iris.model.unloads", "{unload}", "Models unloaded, by reason (idle, memory_budget).");

    /// <summary>
    /// The residency gauges of one model runtime (<c>iris_model_loaded</c>, <c>iris_model_memory_bytes</c>,
    /// <c>iris_model_last_used_timestamp_seconds</c>), read from <paramref name="models"/> at each scrape. On a meter of
    /// their own that the runtime disposes, so a runtime that is gone (tests start many) reports nothing.
    /// </summary>
    public static IDisposable ObserveModels(Func<IEnumerable<ModelObservation>> models)
    {
        var meter = new Meter(MeterName);
        meter.CreateObservableGauge("iris.model.loaded", () => models().Select(m =>
                new Measurement<int>(m.Loaded ? 1 : 0, new KeyValuePair<string, object?>("model", m.Model), new KeyValuePair<string, object?>("task", m.Task))),
            description: "1 while the model is loaded, 0 once it failed or was unloaded.");
        meter.CreateObservableGauge("iris.model.memory", () => models().Select(m =>
                new Measurement<long>(m.MemoryBytes, new KeyValuePair<string, object?>("model", m.Model))),
            "By", "Memory of the loaded model (RSS growth over a load that ran alone, else its files' bytes × 8); 0 when not loaded.");
        meter.CreateObservableGauge("iris.model.last_used_timestamp", () => models().Where(m => m.LastUsed is not null).Select(m =>
                new Measurement<double>(m.LastUsed!.Value.ToUnixTimeMilliseconds() / 1000.0, new KeyValuePair<string, object?>("model", m.Model))),
            "s", "When a request last used the model, as Unix time.");
        return meter;
    }

    public static readonly Histogram<double> ImageDecodeDuration =
        Meter.CreateHistogram("iris.image.decode.duration", "s", "Time to decode an image to pixels, by source format.", advice: Fast);

    public static readonly Counter<long> ImagesRejected =
        Meter.CreateCounter<long>("iris.images.rejected", "{image}", "Images refused before or while decoding, by reason.");

    public static readonly Counter<long> DecodesAdmitted =
        Meter.CreateCounter<long>("iris.decode.admitted", "{image}", "Decodes and transforms admitted within Images:MaxInFlightPixels.");

    public static readonly Counter<long> DecodesShed =
        Meter.CreateCounter<long>("iris.decode.shed", "{image}", "Decodes refused with 503 because Images:MaxInFlightPixels stayed full for Images:AdmissionWaitMs.");

    public static readonly Counter<long> RequestsShed =
        Meter.CreateCounter<long>("iris.requests.shed", "{request}", "Image requests refused with 503 because Server:MaxImageRequests stayed full for Inference:MaxQueueWaitMs.");

    public static readonly UpDownCounter<long> DecodePixelsInFlight =
        Meter.CreateUpDownCounter<long>("iris.decode.pixels.in_flight", "{pixel}", "Decoded pixels held by admitted requests now.");

    public static readonly Counter<long> MemoryTrims =
        Meter.CreateCounter<long>("iris.memory.trims", "{trim}", "Memory given back to the OS after a burst of decodes (Images:TrimAfterBurstMs).");

    public static readonly Counter<long> MemoryTrimReleased =
        Meter.CreateCounter<long>("iris.memory.trim.released", "By", "Resident memory given back by after-burst trims, by heap (managed, native).");

    public static readonly Counter<long> JobsSubmitted =
        Meter.CreateCounter<long>("iris.jobs.submitted", "{job}", "Jobs accepted (one per image of a submission).");

    public static readonly Counter<long> JobsFinished =
        Meter.CreateCounter<long>("iris.jobs.finished", "{job}", "Jobs that reached a final state, by status.");

    /// <summary>
    /// Requests for which a security store in Redis could not be read, by store (<c>rate_limit</c>: let through;
    /// <c>revocation</c>: refused with 503).
    /// </summary>
    public static readonly Counter<long> SecurityStoreFailures =
        Meter.CreateCounter<long>("iris.security.store.failures", "{request}", "Requests for which the rate-limit or token-revocation store could not be read, by store.");

    /// <summary>HTTP requests being served now (every route, the probes and /metrics included).</summary>
    public static readonly UpDownCounter<long> HttpRequestsInFlight =
        Meter.CreateUpDownCounter<long>("iris.http.requests.in_flight", "{request}", "HTTP requests being served now.");

    /// <summary>
    /// Always 1, labelled with the version and the git commit the build came from (<c>SourceRevisionId</c>, which
    /// the SDK appends to the informational version; "unknown" when built outside a git checkout without it).
    /// </summary>
    public static readonly ObservableGauge<long> BuildInfo =
        Meter.CreateObservableGauge("iris.build.info", () => new Measurement<long>(1, BuildLabels()), description: "Always 1: the version and commit of this build.");

    private static KeyValuePair<string, object?>[] BuildLabels()
    {
        var informational = typeof(IrisMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        var plus = informational.IndexOf('+');
        var version = plus >= 0 ? informational[..plus] : informational.Length > 0 ? informational : "unknown";
        var commit = plus >= 0 && plus + 1 < informational.Length ? informational[(plus + 1)..] : "unknown";
        return [new("version", version), new("commit", commit)];
    }

    // The gauges below read state (queues, the outbox, disks) that a host reports through Observe: instruments are
    // process-wide, hosts are not (tests run several servers in one process), so each server registers its source
    // and a series with the same labels is reported once.
    private static readonly ConcurrentDictionary<object, Func<OperationsSnapshot>> Sources = new();

    /// <summary>Reports <paramref name="snapshot"/> through the operations gauges until the returned handle is disposed.</summary>
    public static IDisposable Observe(Func<OperationsSnapshot> snapshot)
    {
        var key = new object();
        Sources[key] = snapshot;
        return new Registration(key);
    }

    private sealed class Registration(object key) : IDisposable
    {
        public void Dispose() => Sources.TryRemove(key, out _);
    }

    private static IEnumerable<Measurement<T>> Observed<T>(Func<OperationsSnapshot, IEnumerable<(T Value, KeyValuePair<string, object?>[] Labels)>> read) where T : struct
    {
        var seen = new HashSet<string>();
        foreach (var source in Sources.Values)
            foreach (var (value, labels) in read(source()))
                if (seen.Add(string.Join(',', labels.Select(l => l.Key + "=" + l.Value))))
                    yield return new Measurement<T>(value, labels);
    }

    private static KeyValuePair<string, object?>[] QueueLabels(JobQueueLevel q) => [new("queue", q.Queue), new("backend", q.Backend)];

    public static readonly ObservableGauge<long> JobQueueDepth = Meter.CreateObservableGauge("iris.job.queue.depth",
        () => Observed(s => s.Queues.Select(q => (q.Depth, QueueLabels(q)))), "{job}",
        "Jobs waiting in the queue to be delivered to a worker (the broker's count; the job store's for Kafka).");

    public static readonly ObservableGauge<double> JobOldestAge = Meter.CreateObservableGauge("iris.job.oldest.age", () => Observed(s =>
            s.Queues.Select(q => (q.OldestWaitingSince is { } since ? Math.Max(0, (s.At - since).TotalSeconds) : 0d, QueueLabels(q)))), "s",
        "How long the oldest waiting job has waited (0 when none waits).");

    public static readonly ObservableGauge<long> WebhookOutboxPending = Meter.CreateObservableGauge("iris.webhook.outbox.pending",
        () => Observed(s => s.Backlog is { } b ? [(b.WebhooksPending, Array.Empty<KeyValuePair<string, object?>>())] : Array.Empty<(long, KeyValuePair<string, object?>[])>()),
        "{delivery}", "Webhook deliveries not yet sent (waiting, in flight or backing off).");

    /// <summary>Deliveries that gave up (kept until job retention deletes them, so a drop is a counter reset to Prometheus).</summary>
    public static readonly ObservableCounter<long> WebhookOutboxFailed = Meter.CreateObservableCounter("iris.webhook.outbox.failed",
        () => Observed(s => s.Backlog is { } b ? [(b.WebhooksFailed, Array.Empty<KeyValuePair<string, object?>>())] : Array.Empty<(long, KeyValuePair<string, object?>[])>()),
        "{delivery}", "Webhook deliveries that failed for good (Jobs:WebhookMaxAttempts used up).");

    public static readonly ObservableGauge<long> DataDirFree = Meter.CreateObservableGauge("iris.data_dir.free",
        () => Observed(s => s.Directories.Select(d => (d.FreeBytes, new KeyValuePair<string, object?>[] { new("store", d.Store) }))), "By",
        "Bytes free to Iris on the file system of each local data directory, by store.");

    public static readonly ObservableGauge<long> DataDirSize = Meter.CreateObservableGauge("iris.data_dir.size",
        () => Observed(s => s.Directories.Select(d => (d.TotalBytes, new KeyValuePair<string, object?>[] { new("store", d.Store) }))), "By",
        "Size of the file system holding each local data directory, by store.");
}

/// <summary>One reading of the state the operations gauges report, taken at <see cref="At"/>.</summary>
public sealed record OperationsSnapshot(DateTimeOffset At, IReadOnlyList<JobQueueLevel> Queues, JobBacklog? Backlog, IReadOnlyList<DataDirectorySpace> Directories)
{
    public static readonly OperationsSnapshot Empty = new(DateTimeOffset.UnixEpoch, [], null, []);
}

/// <summary>The file system space under one of Iris's local data directories (<c>store</c>: models, jobs, library…).</summary>
public sealed record DataDirectorySpace(string Store, long FreeBytes, long TotalBytes);

/// <summary>One model as the residency gauges see it.</summary>
public readonly record struct ModelObservation(string Model, string Task, bool Loaded, long MemoryBytes, DateTimeOffset? LastUsed);
