using Iris.Core.Ocr;

namespace Iris.Contracts;

/// <summary>The JSON document of <c>POST /v1/ocr</c> and <c>iris ocr --json</c>.</summary>
public sealed record OcrResponse(string Model, int Width, int Height, string Text, IReadOnlyList<OcrLineDto> Lines, OcrTimingsDto TimingsMs)
{
    public static OcrResponse From(OcrResult result, double decodeMs, double totalMs) => new(
        result.Model,
        result.Width,
        result.Height,
        result.Text,
        result.Lines.Select(l => new OcrLineDto(
            l.Text,
            MathF.Round(l.Confidence, 4),
            l.Polygon.Select(p => new[] { MathF.Round(p.X, 1), MathF.Round(p.Y, 1) }).ToArray())).ToList(),
        new OcrTimingsDto(Ms(decodeMs), Ms(result.Timings.DetectMs), Ms(result.Timings.CropMs), Ms(result.Timings.ClassifyMs),
            Ms(result.Timings.RecognizeMs), Ms(totalMs)));

    private static double Ms(double v) => Math.Round(v, 2);
}

/// <summary>One line of text; <c>polygon</c> is its 4 corners [x, y] in pixels of the upright image, clockwise from top-left.</summary>
public sealed record OcrLineDto(string Text, float Confidence, float[][] Polygon);

public sealed record OcrTimingsDto(double Decode, double Detect, double Crop, double Classify, double Recognize, double Total);
