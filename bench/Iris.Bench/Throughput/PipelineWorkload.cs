using System.Diagnostics;
using Iris.Core.Detection;
using Iris.Core.Imaging;

namespace Iris.Bench.Throughput;

/// <summary>
/// What <c>POST /v1/detect</c> does once the upload is read, called in-process: decode the JPEG, then
/// <see cref="YoloxDetector.DetectAsync"/> (letterbox, run, decode the grid, NMS). The gap between this and the
/// raw run is the cost of the image work; the gap between this and HTTP is the cost of serving it.
/// </summary>
public sealed class PipelineWorkload(ImageDecoder decoder, YoloxDetector detector, DetectionParameters parameters, byte[] imageBytes)
{
    public async ValueTask<StageTimings?> DetectOnceAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var image = decoder.Decode(imageBytes, cancellationToken);
        var decodeMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var result = await detector.DetectAsync(image, parameters, cancellationToken);
        var t = result.Timings;
        return new StageTimings(decodeMs, t.PreprocessMs, t.InferenceMs, t.PostprocessMs, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
