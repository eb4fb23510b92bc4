using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;

namespace Iris.Core.Faces;

public sealed class UltraFaceDetectorLoader(OnnxSessionFactory sessions) : IModelLoader
{
    public string Task => "faces";

    public async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var spec = manifest.Section<FaceDetectorSpec>("face_detector");
        manifest.File(spec.Model);
        var session = sessions.CreateConcurrentRun(files.Path(spec.Model));
        var loneRun = sessions.CreateLoneRun(files.Path(spec.Model));
        try
        {
            var detector = new UltraFaceDetector(manifest, spec, session, sessions.Settings.RunLimits, loneRun);
            var blank = new DecodedImage(32, 32, new byte[32 * 32 * 3], ImageFormat.Png, 1, 0);
            await detector.DetectAsync(blank, new FaceDetectionParameters(1f, 1), cancellationToken);
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
