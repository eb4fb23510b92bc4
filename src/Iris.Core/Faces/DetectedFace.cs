using Iris.Core.Detection;
using Iris.Core.Imaging;

namespace Iris.Core.Faces;

public sealed record DetectedFace(float Confidence, BoundingBox Box);

public sealed record FaceDetectionTimings(double PreprocessMs, double InferenceMs, double PostprocessMs);

public sealed record FaceDetectionResult(string Model, int Width, int Height, IReadOnlyList<DetectedFace> Faces, FaceDetectionTimings Timings)
{
    /// <summary>This result, found in <paramref name="image"/>, with its size and boxes in the original image's pixels.</summary>
    public FaceDetectionResult InOriginalPixels(DecodedImage image) => !image.IsShrunk ? this : this with
    {
        Width = image.OriginalWidth,
        Height = image.OriginalHeight,
        Faces = Faces.Select(f => f with { Box = f.Box.InOriginalPixels(image) }).ToList(),
    };
}

public sealed record FaceDetectionParameters(float MinConfidence, int MaxFaces);
