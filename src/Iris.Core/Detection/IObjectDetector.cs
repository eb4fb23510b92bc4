using Iris.Core.Imaging;
using Iris.Core.Inference;

namespace Iris.Core.Detection;

/// <summary>
/// A loaded <c>detect</c> model, whatever its architecture: the manifest's <c>detector.architecture</c> picks the
/// implementation at load (<see cref="YoloxDetectorLoader"/>), and everything above it (task, routes, CLI, facades) sees only this.
/// </summary>
public interface IObjectDetector : ILoadedModel
{
    IReadOnlyList<string> Labels { get; }

    Task<DetectionResult> DetectAsync(DecodedImage image, DetectionParameters parameters, CancellationToken cancellationToken = default);
}
