using Iris.Core.Faces;

namespace Iris.Contracts;

/// <summary>The JSON document of <c>POST /v1/faces</c> and <c>iris faces --json</c>.</summary>
public sealed record FacesResponse(string Model, int Width, int Height, IReadOnlyList<FaceDto> Faces, DetectionTimingsDto TimingsMs)
{
    public static FacesResponse From(FaceDetectionResult result, double decodeMs, double totalMs) => new(
        result.Model,
        result.Width,
        result.Height,
        result.Faces.Select(f => new FaceDto(
            MathF.Round(f.Confidence, 4),
            new BoxDto(Round(f.Box.XMin), Round(f.Box.YMin), Round(f.Box.XMax), Round(f.Box.YMax)))).ToList(),
        new DetectionTimingsDto(Ms(decodeMs), Ms(result.Timings.PreprocessMs), Ms(result.Timings.InferenceMs), Ms(result.Timings.PostprocessMs), Ms(totalMs)));

    private static float Round(float v) => MathF.Round(v, 1);
    private static double Ms(double v) => Math.Round(v, 2);
}

public sealed record FaceDto(float Confidence, BoxDto Box);
