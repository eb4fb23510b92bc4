namespace Iris.Core.Detection;

/// <summary>
/// Decodes YOLOX's anchor-free head: the output rows are grid points of each stride in turn
/// (row-major), each <c>tx, ty, tw, th, objectness, class scores…</c> with scores already sigmoid-activated.
/// </summary>
public static class YoloxOutputDecoder
{
    public readonly record struct Candidate(int ClassIndex, float Score, BoundingBox Box);

    public static List<Candidate> Decode(
        ReadOnlySpan<float> output, int classCount, int inputWidth, int inputHeight, int[] strides,
        float ratio, int imageWidth, int imageHeight, float minScore)
    {
        var rowLength = 5 + classCount;
        var expected = strides.Sum(s => (inputWidth / s) * (inputHeight / s)) * rowLength;
        if (output.Length != expected)
            throw new InvalidOperationException($"YOLOX output has {output.Length} values; strides {string.Join('/', strides)} at {inputWidth}×{inputHeight} with {classCount} classes give {expected}.");
        var candidates = new List<Candidate>();
        var row = 0;
        foreach (var stride in strides)
        {
            int gridWidth = inputWidth / stride, gridHeight = inputHeight / stride;
            for (var gy = 0; gy < gridHeight; gy++)
            for (var gx = 0; gx < gridWidth; gx++, row++)
            {
                var p = output.Slice(row * rowLength, rowLength);
                var objectness = p[4];
                // A class score is at most 1, so objectness alone bounds every score of this point.
                if (objectness < minScore) continue;

                var cx = (p[0] + gx) * stride;
                var cy = (p[1] + gy) * stride;
                var w = MathF.Exp(p[2]) * stride;
                var h = MathF.Exp(p[3]) * stride;
                var box = new BoundingBox(
                    Math.Clamp((cx - w / 2) / ratio, 0, imageWidth),
                    Math.Clamp((cy - h / 2) / ratio, 0, imageHeight),
                    Math.Clamp((cx + w / 2) / ratio, 0, imageWidth),
                    Math.Clamp((cy + h / 2) / ratio, 0, imageHeight));
                for (var c = 0; c < classCount; c++)
                {
                    var score = objectness * p[5 + c];
                    if (score >= minScore)
                        candidates.Add(new Candidate(c, score, box));
                }
            }
        }
        return candidates;
    }
}
