using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Inference.Batching;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Detection;

/// <summary>Loads <c>detect</c> models: the <c>detector</c> section's <c>architecture</c> picks the implementation (yolox, centernet).</summary>
public sealed class YoloxDetectorLoader(OnnxSessionFactory sessions, BatchingSettings? batching = null) : IModelLoader
{
    public string Task => "detect";

    public Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var spec = manifest.Section<DetectorSpec>("detector");
        if (spec.Architecture == "centernet")
        {
            var centerNet = manifest.Section<CenterNetSpec>("detector");
            return LoadAsync(manifest, files, centerNet.Model, centerNet.Labels,
                (session, loneRun, labels) => new CenterNetDetector(manifest, centerNet, session, labels, sessions.Settings.RunLimits, loneRun), cancellationToken);
        }
        return LoadAsync(manifest, files, spec.Model, spec.Labels,
            (session, loneRun, labels) =>
            {
                var detector = new YoloxDetector(manifest, spec, session, labels, sessions.Settings.RunLimits, loneRun);
                detector.EnableBatching(files.Path(spec.Model), sessions, (batching ?? BatchingSettings.Off).For(manifest.Name),
                    ProbeImages.Create(spec.InputWidth, spec.InputHeight));
                return detector;
            }, cancellationToken);
    }

    /// <summary>Labels and session, the detector, one run on a blank image so the first request does not pay for ONNX Runtime's first run.</summary>
    private async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, string model, string labelsFile,
        Func<InferenceSession, InferenceSession?, string[], IObjectDetector> create, CancellationToken cancellationToken)
    {
        manifest.File(model);
        manifest.File(labelsFile);
        var labels = (await File.ReadAllLinesAsync(files.Path(labelsFile), cancellationToken))
            .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var session = sessions.CreateConcurrentRun(files.Path(model));
        var loneRun = sessions.CreateLoneRun(files.Path(model));
        try
        {
            var detector = create(session, loneRun, labels);
            var blank = new DecodedImage(32, 32, new byte[32 * 32 * 3], ImageFormat.Png, 1, 0);
            await detector.DetectAsync(blank, new DetectionParameters(1f, 1), cancellationToken);
            return detector;
        }
        catch
        {
            session.Dispose();
            loneRun?.Dispose();
            throw;
        }
    }
}
