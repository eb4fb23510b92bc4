namespace Iris.Core.Captioning;

/// <summary>
/// transformers' logits processors that captioning configs use, applied in transformers' order
/// (repetition penalty, no-repeat n-gram, min length) to one row of next-token scores.
/// </summary>
public static class LogitsProcessing
{
    public static void Apply(Span<float> scores, ReadOnlySpan<int> sequence, GenerationSettings settings)
    {
        if (settings.RepetitionPenalty != 1f) ApplyRepetitionPenalty(scores, sequence, settings.RepetitionPenalty);
        if (settings.NoRepeatNgramSize > 0) BanRepeatedNgrams(scores, sequence, settings.NoRepeatNgramSize);
        if (sequence.Length < settings.MinLength)
            foreach (var eos in settings.EosTokenIds)
                if (eos < scores.Length) scores[eos] = float.NegativeInfinity;
    }

    /// <summary>
    /// CTRL's repetition penalty as transformers applies it: every token already in the sequence (the decoder start
    /// token included) has a negative score multiplied, a positive one divided, by the penalty; once per token.
    /// </summary>
    public static void ApplyRepetitionPenalty(Span<float> scores, ReadOnlySpan<int> sequence, float penalty)
    {
        var seen = new HashSet<int>();
        foreach (var token in sequence)
        {
            if (token < 0 || token >= scores.Length || !seen.Add(token)) continue;
            var s = scores[token];
            scores[token] = s < 0 ? s * penalty : s / penalty;
        }
    }

    /// <summary>
    /// Bans every token that would complete an n-gram already present in the sequence: the last n-1 tokens are
    /// looked up among the sequence's earlier n-grams, and each token that followed them gets -inf.
    /// </summary>
    public static void BanRepeatedNgrams(Span<float> scores, ReadOnlySpan<int> sequence, int n)
    {
        var length = sequence.Length;
        if (length + 1 < n) return;
        var prefix = sequence[(length - n + 1)..];
        for (var start = 0; start + n <= length; start++)
        {
            if (!sequence.Slice(start, n - 1).SequenceEqual(prefix)) continue;
            var banned = sequence[start + n - 1];
            if (banned >= 0 && banned < scores.Length) scores[banned] = float.NegativeInfinity;
        }
    }

    /// <summary>log_softmax in float32 with the maximum subtracted first, as PyTorch computes it.</summary>
    public static void LogSoftmax(Span<float> scores)
    {
        var max = float.NegativeInfinity;
        foreach (var s in scores) if (s > max) max = s;
        double sum = 0;
        foreach (var s in scores) sum += Math.Exp(s - max);
        var logSum = (float)Math.Log(sum);
        for (var i = 0; i < scores.Length; i++) scores[i] = scores[i] - max - logSum;
    }

    /// <summary>The index of the highest score; the first one on a tie, as torch.argmax.</summary>
    public static int ArgMax(ReadOnlySpan<float> scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++)
            if (scores[i] > scores[best]) best = i;
        return best;
    }
}
