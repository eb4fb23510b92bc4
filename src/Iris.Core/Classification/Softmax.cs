namespace Iris.Core.Classification;

public static class Softmax
{
    /// <summary>exp(x − max) / Σ exp(x − max): subtracting the maximum keeps logits in the hundreds from overflowing.</summary>
    public static void Apply(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        if (logits.Length == 0) return;
        var max = float.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            probabilities[i] = MathF.Exp(logits[i] - max);
            sum += probabilities[i];
        }
        for (var i = 0; i < logits.Length; i++)
            probabilities[i] = (float)(probabilities[i] / sum);
    }
}
