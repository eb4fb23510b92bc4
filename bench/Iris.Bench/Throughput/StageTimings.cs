namespace Iris.Bench.Throughput;

/// <summary>
/// Where one image's time went, in milliseconds, as Iris itself measures it (the <c>timings_ms</c> of
/// <c>POST /v1/detect</c>). <see cref="Total"/> is the handler's whole time, so it also holds the wait for
/// the model's run gate (Inference:MaxConcurrentRuns), which none of the stages include.
/// </summary>
public readonly record struct StageTimings(double Decode, double Preprocess, double Inference, double Postprocess, double Total)
{
    public double Stages => Decode + Preprocess + Inference + Postprocess;

    /// <summary>Time inside the handler spent in no stage: mostly queued at the run gate, plus reading the upload.</summary>
    public double Queued => Total - Stages;

    public static StageTimings? Mean(IReadOnlyCollection<StageTimings> timings)
    {
        if (timings.Count == 0) return null;
        double decode = 0, preprocess = 0, inference = 0, postprocess = 0, total = 0;
        foreach (var t in timings)
        {
            decode += t.Decode;
            preprocess += t.Preprocess;
            inference += t.Inference;
            postprocess += t.Postprocess;
            total += t.Total;
        }
        var n = timings.Count;
        return new StageTimings(decode / n, preprocess / n, inference / n, postprocess / n, total / n);
    }
}
