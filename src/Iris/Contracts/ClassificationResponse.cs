using Iris.Core.Classification;

namespace Iris.Contracts;

/// <summary>The JSON document of <c>POST /v1/classify</c> and <c>iris classify --json</c>.</summary>
public sealed record ClassificationResponse(string Model, IReadOnlyList<ClassPredictionDto> Predictions, DetectionTimingsDto TimingsMs)
{
    public static ClassificationResponse From(ClassificationResult result, double decodeMs, double totalMs) => new(
        result.Model,
        result.Predictions.Select(p => new ClassPredictionDto(p.Label, p.ClassIndex, MathF.Round(p.Confidence, 4))).ToList(),
        new DetectionTimingsDto(Ms(decodeMs), Ms(result.Timings.PreprocessMs), Ms(result.Timings.InferenceMs), Ms(result.Timings.PostprocessMs), Ms(totalMs)));

    private static double Ms(double v) => Math.Round(v, 2);
}

public sealed record ClassPredictionDto(string Label, int ClassIndex, float Confidence);
