using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Inference.Batching;
using Iris.Core.Models;

namespace Iris.Core.Detection;

public sealed class YoloxDetectorLoader(OnnxSessionFactory sessions, BatchingSettings? batching = null) : IModelLoader
{
    public string Task => "detect";

    public async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var spec = manifest.Section<DetectorSpec>("detector");
        manifest.File(spec.Model);
        manifest.File(spec.Labels);
        var labels = (await File.ReadAllLinesAsync(files.Path(spec.Labels), cancellationToken))
            .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var session = sessions.Create(files.Path(spec.Model));
        try
        {
            var detector = new YoloxDetector(manifest, spec, session, labels, sessions.Settings.MaxConcurrentRuns);
            detector.EnableBatching(files.Path(spec.Model), sessions, (batching ?? BatchingSettings.Off).For(manifest.Name), ProbeImages.Create(spec.InputWidth, spec.InputHeight));
            var blank = new DecodedImage(32, 32, new byte[32 * 32 * 3], ImageFormat.Png, 1, 0);
            await detector.DetectAsync(blank, new DetectionParameters(1f, 1), cancellationToken);
            return detector;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
