namespace Iris.Core.Ocr;

/// <summary>
/// Greedy CTC decoding as PaddleOCR's CTCLabelDecode: take the most likely class at each time step, merge
/// consecutive repeats, drop the blank (class 0). Class i ≥ 1 is character i − 1 of the dictionary; with
/// a space class the last class is ' '. Confidence is the mean of the kept steps' probabilities.
/// </summary>
public sealed class CtcDecoder
{
    private readonly string[] _characters;

    public CtcDecoder(IReadOnlyList<string> dictionary, bool spaceCharacter)
    {
        _characters = spaceCharacter ? [.. dictionary, " "] : [.. dictionary];
    }

    /// <summary>Classes the model must output: blank + characters (+ space).</summary>
    public int ClassCount => _characters.Length + 1;

    public (string Text, float Confidence) Decode(ReadOnlySpan<float> probabilities, int steps, int classes)
    {
        if (classes != ClassCount)
            throw new ArgumentException($"The recogniser outputs {classes} classes but the dictionary gives {ClassCount} (blank + characters).", nameof(classes));
        var text = new System.Text.StringBuilder();
        double confidence = 0;
        var kept = 0;
        var previous = -1;
        for (var t = 0; t < steps; t++)
        {
            var row = probabilities.Slice(t * classes, classes);
            var best = 0;
            var bestValue = row[0];
            for (var c = 1; c < classes; c++)
                if (row[c] > bestValue)
                {
                    bestValue = row[c];
                    best = c;
                }
            if (best != 0 && best != previous)
            {
                text.Append(_characters[best - 1]);
                confidence += bestValue;
                kept++;
            }
            previous = best;
        }
        return (text.ToString(), kept == 0 ? 0f : (float)(confidence / kept));
    }
}
