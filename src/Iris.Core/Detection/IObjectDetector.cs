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

    /// <summary>How the pre-processing maps an image onto the input, which bounds how small it may be decoded.</summary>
    DecodeNeed InputNeed { get; }

    Task<DetectionResult> DetectAsync(DecodedImage image, DetectionParameters parameters, CancellationToken cancellationToken = default);
}
