using Iris.Core.Classification;

namespace Iris.Core.Moderation;

/// <summary>
/// When an image is unsafe: a class → threshold map; an image whose probability of any of these classes is above its
/// threshold is flagged with that class. Classes without a threshold (Neutral, Drawing) never flag.
/// </summary>
public sealed record ModerationThresholds(float Porn, float Hentai, float Sexy)
{
    public IReadOnlyDictionary<string, float> ByClass => new Dictionary<string, float>
    {
        ["Porn"] = Porn,
        ["Hentai"] = Hentai,
        ["Sexy"] = Sexy,
    };
}

/// <summary>What <c>moderate</c> answers: every class's probability (class-index order), the classes flagged and the verdict.</summary>
public sealed record ModerationResult(
    string Model, IReadOnlyList<ClassPrediction> Classes, IReadOnlyList<string> Flagged, ModerationThresholds Thresholds, ClassificationTimings Timings)
{
    public bool Safe => Flagged.Count == 0;

    /// <summary>The most likely class.</summary>
    public string Top => Classes.MaxBy(c => c.Confidence)!.Label;

    /// <summary>Flags each thresholded class whose probability is above its threshold, most likely first.</summary>
    public static ModerationResult Judge(string model, IReadOnlyList<ClassPrediction> classes, ModerationThresholds thresholds, ClassificationTimings timings)
    {
        var byClass = thresholds.ByClass;
        var flagged = classes
            .Where(c => byClass.TryGetValue(c.Label, out var threshold) && c.Confidence > threshold)
            .OrderByDescending(c => c.Confidence)
            .Select(c => c.Label)
            .ToList();
        return new ModerationResult(model, classes, flagged, thresholds, timings);
    }
}
