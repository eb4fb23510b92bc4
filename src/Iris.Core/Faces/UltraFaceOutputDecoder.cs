using Iris.Core.Detection;

namespace Iris.Core.Faces;

/// <summary>
/// Reads UltraFace's decoded outputs: per prior a (background, face) softmax pair and a box <c>x1, y1, x2, y2</c>
/// relative to the input, which is the whole image stretched, so scaling by the image size returns to its pixels.
/// </summary>
public static class UltraFaceOutputDecoder
{
    public static List<YoloxOutputDecoder.Candidate> Decode(ReadOnlySpan<float> scores, ReadOnlySpan<float> boxes, int imageWidth, int imageHeight, float minScore)
    {
        var priors = scores.Length / 2;
        if (scores.Length != priors * 2 || boxes.Length != priors * 4)
            throw new InvalidOperationException($"UltraFace outputs disagree: {scores.Length} scores (2 per prior) and {boxes.Length} box values (4 per prior).");
        var candidates = new List<YoloxOutputDecoder.Candidate>();
        for (var i = 0; i < priors; i++)
        {
            var face = scores[i * 2 + 1];
            // The authors' demo keeps scores strictly above the threshold.
            if (face <= minScore) continue;
            var b = boxes.Slice(i * 4, 4);
            var box = new BoundingBox(
                Math.Clamp(b[0] * imageWidth, 0, imageWidth),
                Math.Clamp(b[1] * imageHeight, 0, imageHeight),
                Math.Clamp(b[2] * imageWidth, 0, imageWidth),
                Math.Clamp(b[3] * imageHeight, 0, imageHeight));
            // One class: class-aware NMS over a single class is UltraFace's hard NMS.
            candidates.Add(new YoloxOutputDecoder.Candidate(0, face, box));
        }
        return candidates;
    }
}
