using Iris.Core.Inference;

namespace Iris.Core.Faces;

public static class ModelRuntimeFaces
{
    public static Task<UltraFaceDetector> GetFaceDetectorAsync(this ModelRuntime runtime, string name, CancellationToken cancellationToken = default) =>
        runtime.GetAsync<UltraFaceDetector>(name, "faces", cancellationToken);

    public static Task<FaceResEmbedder> GetFaceEmbedderAsync(this ModelRuntime runtime, string name, CancellationToken cancellationToken = default) =>
        runtime.GetAsync<FaceResEmbedder>(name, "face-embed", cancellationToken);
}
