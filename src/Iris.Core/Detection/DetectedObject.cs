using Iris.Core.Imaging;

namespace Iris.Core.Detection;

/// <summary>An axis-aligned box in original image pixels.</summary>
public readonly record struct BoundingBox(float XMin, float YMin, float XMax, float YMax)
{
    public float Area => Math.Max(0, XMax - XMin) * Math.Max(0, YMax - YMin);

    /// <summary>The box in the original image's pixels, for a box found in an image shrunk on load (<see cref="DecodedImage.ToOriginalScale"/>).</summary>
    public BoundingBox InOriginalPixels(DecodedImage image)
    {
        if (!image.IsShrunk) return this;
        var (x, y) = image.ToOriginalScale;
        return new BoundingBox(
            (float)Math.Min(XMin * x, image.OriginalWidth), (float)Math.Min(YMin * y, image.OriginalHeight),
            (float)Math.Min(XMax * x, image.OriginalWidth), (float)Math.Min(YMax * y, image.OriginalHeight));
    }

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

public sealed record DetectionResult(string Model, int Width, int Height, IReadOnlyList<DetectedObject> Objects, DetectionTimings Timings)
{
    /// <summary>This result, found in <paramref name="image"/>, with its size and boxes in the original image's pixels.</summary>
    public DetectionResult InOriginalPixels(DecodedImage image) => !image.IsShrunk ? this : this with
    {
        Width = image.OriginalWidth,
        Height = image.OriginalHeight,
        Objects = Objects.Select(o => o with { Box = o.Box.InOriginalPixels(image) }).ToList(),
    };
}

public sealed record DetectionParameters(float MinConfidence, int MaxDetections);
