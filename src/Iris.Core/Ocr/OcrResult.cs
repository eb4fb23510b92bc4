namespace Iris.Core.Ocr;

/// <summary>One recognised text line: its text, recognition confidence, and its quadrilateral in image pixels (clockwise from top-left).</summary>
public sealed record OcrLine(string Text, float Confidence, PointF[] Polygon);

/// <summary>Milliseconds per stage: detection (resize, network, DB post-processing), cropping, direction classification, recognition.</summary>
public sealed record OcrTimings(double DetectMs, double CropMs, double ClassifyMs, double RecognizeMs);

/// <summary>What a reader found in one image: the lines in reading order and the text they make.</summary>
public sealed record OcrResult(string Model, int Width, int Height, string Text, IReadOnlyList<OcrLine> Lines, OcrTimings Timings);

/// <summary>Per-request settings; null means the model's default.</summary>
public sealed record OcrParameters(float? MinConfidence = null);
