using Iris.Core.Faces;

namespace Iris.Contracts;

/// <summary>The JSON document of <c>POST /v1/faces/embed</c>.</summary>
public sealed record FaceEmbeddingResponse(
    string Model, string Detector, int Width, int Height, IReadOnlyList<EmbeddedFaceDto> Faces, FaceEmbeddingTimingsDto TimingsMs)
{
    public static FaceEmbeddingResponse From(FaceEmbeddingResult result, double decodeMs, double totalMs) => new(
        result.Model,
        result.Detector,
        result.Width,
        result.Height,
        result.Faces.Select(f => new EmbeddedFaceDto(
            MathF.Round(f.Confidence, 4), Box(f.Box), Box(f.Crop),
            f.Description.Age, f.Description.Gender, MathF.Round(f.Description.GenderConfidence, 4), f.Description.Descriptor)).ToList(),
        new FaceEmbeddingTimingsDto(Ms(decodeMs), Ms(result.Timings.DetectMs), Ms(result.Timings.PreprocessMs), Ms(result.Timings.InferenceMs), Ms(totalMs)));

    public static BoxDto Box(Iris.Core.Detection.BoundingBox box) =>
        new(MathF.Round(box.XMin, 1), MathF.Round(box.YMin, 1), MathF.Round(box.XMax, 1), MathF.Round(box.YMax, 1));

    private static double Ms(double v) => Math.Round(v, 2);
}

/// <summary>One face: detector confidence and box, the square crop that was embedded, age, gender and the L2-normalised descriptor.</summary>
public sealed record EmbeddedFaceDto(float Confidence, BoxDto Box, BoxDto Crop, float Age, string Gender, float GenderConfidence, float[] Descriptor);

public sealed record FaceEmbeddingTimingsDto(double Decode, double Detect, double Preprocess, double Inference, double Total);
