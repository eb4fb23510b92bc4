namespace Iris.Core.Detection;

/// <summary>An axis-aligned box in original image pixels.</summary>
public readonly record struct BoundingBox(float XMin, float YMin, float XMax, float YMax)
{
    public float Area => Math.Max(0, XMax - XMin) * Math.Max(0, YMax - YMin);

    public float IntersectionOverUnion(BoundingBox other)
    {
        var w = Math.Min(XMax, other.XMax) - Math.Max(XMin, other.XMin);
        var h = Math.Min(YMax, other.YMax) - Math.Max(YMin, other.YMin);
        if (w <= 0 || h <= 0) return 0f;
        var intersection = w * h;
        return intersection / (Area + other.Area - intersection);
    }
}

public sealed record DetectedObject(string Label, int ClassIndex, float Confidence, BoundingBox Box);

public sealed record DetectionTimings(double PreprocessMs, double InferenceMs, double PostprocessMs);

public sealed record DetectionResult(string Model, int Width, int Height, IReadOnlyList<DetectedObject> Objects, DetectionTimings Timings);

public sealed record DetectionParameters(float MinConfidence, int MaxDetections);
