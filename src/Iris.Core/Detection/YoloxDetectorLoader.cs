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
        if (spec.Architecture == "centernet")
            return await LoadCenterNetAsync(manifest, files, cancellationToken);
        manifest.File(spec.Model);
        manifest.File(spec.Labels);
        var labels = (await File.ReadAllLinesAsync(files.Path(spec.Labels), cancellationToken))
            .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var session = sessions.Create(files.Path(spec.Model));
        try
        {
            var detector = new YoloxDetector(manifest, spec, session, labels, sessions.Settings.RunLimits);
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

    /// <summary>The second architecture: its own section, preprocessing and decoder; the rest of the pipeline sees an <see cref="IObjectDetector"/>.</summary>
    private async Task<ILoadedModel> LoadCenterNetAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var spec = manifest.Section<CenterNetSpec>("detector");
        manifest.File(spec.Model);
        manifest.File(spec.Labels);
        var labels = (await File.ReadAllLinesAsync(files.Path(spec.Labels), cancellationToken))
            .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var session = sessions.Create(files.Path(spec.Model));
        try
        {
            var detector = new CenterNetDetector(manifest, spec, session, labels, sessions.Settings.RunLimits);
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
