namespace Iris.Core.Captioning;

/// <summary>
/// One decoder step over every row of a batch: given each row's newest token, return the next-token logits
/// (rows × vocabulary). The implementation keeps the key/value cache, so earlier tokens are never fed again.
/// </summary>
public interface IDecoderSteps
{
    int VocabularySize { get; }

    /// <summary>
    /// Runs one step. <paramref name="sourceRows"/>, when given, says for each row which row's cache it continues
    /// (beam search reorders its beams); null keeps every row's own cache.
    /// </summary>
    float[] Step(ReadOnlySpan<int> tokens, ReadOnlySpan<int> sourceRows);

    int Steps { get; }
}

/// <summary>A generated sequence (decoder start token first, eos last when it ended on one) and its score.</summary>
public sealed record GeneratedSequence(int[] Ids, float Score);

/// <summary>transformers' greedy search (num_beams = 1), batched: finished rows are fed the pad token until all end.</summary>
public static class GreedySearch
{
    public static IReadOnlyList<GeneratedSequence> Run(IDecoderSteps decoder, int batchSize, GenerationSettings settings)
    {
        var sequences = Enumerable.Range(0, batchSize).Select(_ => new List<int> { settings.DecoderStartTokenId }).ToArray();
        var scores = new float[batchSize];
        var finished = new bool[batchSize];
        var tokens = Enumerable.Repeat(settings.DecoderStartTokenId, batchSize).ToArray();
        var vocab = decoder.VocabularySize;
        // The batch advances together: every row has the same length, counting the pad tokens fed to finished rows.
        for (var length = 1; length < settings.EffectiveMaxLength && !finished.All(f => f); length++)
        {
            var logits = decoder.Step(tokens, default);
            for (var b = 0; b < batchSize; b++)
            {
                if (finished[b])
                {
                    tokens[b] = settings.PadTokenId;
                    continue;
                }
                var row = logits.AsSpan(b * vocab, vocab);
                LogitsProcessing.Apply(row, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequences[b]), settings);
                var next = LogitsProcessing.ArgMax(row);
                tokens[b] = next;
                sequences[b].Add(next);
                scores[b] += row[next];
                if (settings.EosTokenIds.Contains(next)) finished[b] = true;
            }
        }
        return sequences.Select((s, b) => new GeneratedSequence(s.ToArray(), scores[b])).ToList();
    }
}
