using Iris.Core.Moderation;

namespace Iris.Contracts;

/// <summary>
/// The JSON document of <c>POST /v1/moderate</c>, <c>iris moderate --json</c> and the <c>moderate</c> section of an analysis:
/// the verdict, the classes that made it, every class's probability (by label, in the model's class order) and the thresholds applied.
/// </summary>
public sealed record ModerationResponse(
    string Model, bool Safe, IReadOnlyList<string> Flagged, string Top, IReadOnlyDictionary<string, float> Scores,
    IReadOnlyDictionary<string, float> Thresholds, DetectionTimingsDto TimingsMs)
{
    public static ModerationResponse From(ModerationResult result, double decodeMs, double totalMs) => new(
        result.Model,
        result.Safe,
        result.Flagged,
        result.Top,
        result.Classes.ToDictionary(c => c.Label, c => MathF.Round(c.Confidence, 4)),
        result.Thresholds.ByClass,
        new DetectionTimingsDto(Ms(decodeMs), Ms(result.Timings.PreprocessMs), Ms(result.Timings.InferenceMs), Ms(result.Timings.PostprocessMs), Ms(totalMs)));

    private static double Ms(double v) => Math.Round(v, 2);
}
