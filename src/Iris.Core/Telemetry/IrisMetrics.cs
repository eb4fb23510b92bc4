using System.Diagnostics.Metrics;

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

    public static readonly Histogram<double> ImageDecodeDuration =
        Meter.CreateHistogram("iris.image.decode.duration", "s", "Time to decode an image to pixels, by source format.", advice: Fast);

    public static readonly Counter<long> ImagesRejected =
        Meter.CreateCounter<long>("iris.images.rejected", "{image}", "Images refused before or while decoding, by reason.");

    public static readonly Counter<long> DecodesAdmitted =
        Meter.CreateCounter<long>("iris.decode.admitted", "{image}", "Decodes and transforms admitted within Images:MaxInFlightPixels.");

    public static readonly Counter<long> DecodesShed =
        Meter.CreateCounter<long>("iris.decode.shed", "{image}", "Decodes refused with 503 because Images:MaxInFlightPixels stayed full for Images:AdmissionWaitMs.");

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
}
