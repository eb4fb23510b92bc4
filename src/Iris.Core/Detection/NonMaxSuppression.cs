namespace Iris.Core.Detection;

/// <summary>
/// Greedy non-maximum suppression. Class-aware: a box only suppresses boxes of its own class, as
/// YOLOX's postprocess does with torchvision's batched_nms.
/// </summary>
public static class NonMaxSuppression
{
    public static List<YoloxOutputDecoder.Candidate> ClassAware(List<YoloxOutputDecoder.Candidate> candidates, float iouThreshold, int maxDetections) =>
        Greedy(candidates, iouThreshold, maxDetections, classAware: true);

    /// <summary>A box suppresses overlapping boxes of every class (<c>tf.image.nonMaxSuppression</c>, as Human runs it after CenterNet).</summary>
    public static List<YoloxOutputDecoder.Candidate> AcrossClasses(List<YoloxOutputDecoder.Candidate> candidates, float iouThreshold, int maxDetections) =>
        Greedy(candidates, iouThreshold, maxDetections, classAware: false);

    private static List<YoloxOutputDecoder.Candidate> Greedy(List<YoloxOutputDecoder.Candidate> candidates, float iouThreshold, int maxDetections, bool classAware)
    {
        candidates.Sort((a, b) => b.Score.CompareTo(a.Score));
        var kept = new List<YoloxOutputDecoder.Candidate>();
        var suppressed = new bool[candidates.Count];
        for (var i = 0; i < candidates.Count && kept.Count < maxDetections; i++)
        {
            if (suppressed[i]) continue;
            var best = candidates[i];
            kept.Add(best);
            for (var j = i + 1; j < candidates.Count; j++)
            {
                if (!suppressed[j] && (!classAware || candidates[j].ClassIndex == best.ClassIndex)
                    && best.Box.IntersectionOverUnion(candidates[j].Box) > iouThreshold)
                    suppressed[j] = true;
            }
        }
        return kept;
    }
}
