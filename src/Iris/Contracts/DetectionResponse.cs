using System.Text.Json;
using Iris.Core.Detection;

namespace Iris.Contracts;

/// <summary>The JSON document of <c>POST /v1/detect</c> and <c>iris detect --json</c>.</summary>
public sealed record DetectionResponse(string Model, int Width, int Height, IReadOnlyList<DetectedObjectDto> Objects, DetectionTimingsDto TimingsMs)
{
    public static DetectionResponse From(DetectionResult result, double decodeMs, double totalMs) => new(
        result.Model,
        result.Width,
        result.Height,
        result.Objects.Select(o => new DetectedObjectDto(
            o.Label,
            MathF.Round(o.Confidence, 4),
            new BoxDto(Round(o.Box.XMin), Round(o.Box.YMin), Round(o.Box.XMax), Round(o.Box.YMax)))).ToList(),
        new DetectionTimingsDto(Ms(decodeMs), Ms(result.Timings.PreprocessMs), Ms(result.Timings.InferenceMs), Ms(result.Timings.PostprocessMs), Ms(totalMs)));

    private static float Round(float v) => MathF.Round(v, 1);
    private static double Ms(double v) => Math.Round(v, 2);

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };
}

public sealed record DetectedObjectDto(string Label, float Confidence, BoxDto Box);

public sealed record BoxDto(float XMin, float YMin, float XMax, float YMax);

public sealed record DetectionTimingsDto(double Decode, double Preprocess, double Inference, double Postprocess, double Total);
