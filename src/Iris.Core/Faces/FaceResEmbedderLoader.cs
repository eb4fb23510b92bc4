using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;

namespace Iris.Core.Faces;

public sealed class FaceResEmbedderLoader(OnnxSessionFactory sessions) : IModelLoader
{
    public string Task => "face-embed";

    public async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var spec = manifest.Section<FaceEmbedderSpec>("face_embedder");
        manifest.File(spec.Model);
        var session = sessions.CreateConcurrentRun(files.Path(spec.Model));
        var loneRun = sessions.CreateLoneRun(files.Path(spec.Model));
        try
        {
            var embedder = new FaceResEmbedder(manifest, spec, session, sessions.Settings.RunLimits, loneRun);
            var blank = new DecodedImage(spec.InputSize, spec.InputSize, new byte[spec.InputSize * spec.InputSize * 3], ImageFormat.Png, 1, 0);
            await embedder.DescribeAsync(blank, [FaceCrop.Whole(spec.InputSize, spec.InputSize)], cancellationToken);
            return embedder;
        }
        catch
        {
            session.Dispose();
            loneRun?.Dispose();
            throw;
        }
    }
}
