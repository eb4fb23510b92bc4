using Iris.Core.Inference;

namespace Iris.Core.Detection;

public static class ModelRuntimeDetection
{
    public static Task<YoloxDetector> GetDetectorAsync(this ModelRuntime runtime, string name, CancellationToken cancellationToken = default) =>
        runtime.GetAsync<YoloxDetector>(name, "detect", cancellationToken);
}
