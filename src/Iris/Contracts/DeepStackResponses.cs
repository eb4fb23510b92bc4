using System.Text.Json.Serialization;
using Iris.Core.Detection;

namespace Iris.Contracts;

/// <summary>
/// The answer of the DeepStack / CodeProject.AI vision routes (<c>/v1/vision/…</c>): DeepStack's <c>success</c> and
/// <c>predictions</c> (boxes as whole pixels, <c>x_min</c>…), plus the fields CodeProject.AI Server adds (<c>count</c>,
/// <c>message</c>, <c>processMs</c>, <c>inferenceMs</c>, …), spelled as those servers spell them, so existing clients
/// (Frigate, Blue Iris, Agent DVR, Home Assistant integrations) read it unchanged.
/// </summary>
public sealed record DeepStackResponse(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("predictions")] IReadOnlyList<DeepStackPrediction> Predictions,
    [property: JsonPropertyName("processMs")] long ProcessMs,
    [property: JsonPropertyName("inferenceMs")] long InferenceMs,
    [property: JsonPropertyName("analysisRoundTripMs")] long AnalysisRoundTripMs,
    [property: JsonPropertyName("moduleId")] string ModuleId,
    [property: JsonPropertyName("moduleName")] string ModuleName,
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("requestId")] string RequestId,
    [property: JsonPropertyName("inferenceDevice")] string InferenceDevice,
    [property: JsonPropertyName("processedBy")] string ProcessedBy,
    [property: JsonPropertyName("timestampUTC")] string TimestampUtc);

/// <summary>One object or face; faces have no label, as in DeepStack's face detection.</summary>
public sealed record DeepStackPrediction(
    [property: JsonPropertyName("label"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Label,
    [property: JsonPropertyName("confidence")] float Confidence,
    [property: JsonPropertyName("x_min")] int XMin,
    [property: JsonPropertyName("y_min")] int YMin,
    [property: JsonPropertyName("x_max")] int XMax,
    [property: JsonPropertyName("y_max")] int YMax)
{
    public static DeepStackPrediction From(string? label, float confidence, BoundingBox box) =>
        new(label, MathF.Round(confidence, 5), (int)MathF.Round(box.XMin), (int)MathF.Round(box.YMin), (int)MathF.Round(box.XMax), (int)MathF.Round(box.YMax));
}
