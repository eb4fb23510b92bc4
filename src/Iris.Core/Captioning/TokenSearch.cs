namespace Iris.Core.Captioning;

/// <summary>
/// One decoder step over every row of a batch: given each row's newest token, return the next-token logits
/// (rows × vocabulary). The implementation keeps the key/value cache, so earlier tokens are never fed again.
/// </summary>
public interface IDecoderSteps
{
    int VocabularySize { get; }

    /// <summary>
    /// Runs one step. <paramref name="sourceRows"/>, when not empty, says for each row of this step which row of the
    /// previous step it continues (its cache and its image); its length is the new row count, so rows can be reordered,
    /// repeated (beams) or dropped (finished). Empty keeps the rows as they are. The first step has one row per image.
    /// </summary>
    float[] Step(ReadOnlySpan<int> tokens, ReadOnlySpan<int> sourceRows);

    int Steps { get; }
}

/// <summary>A generated sequence (decoder start token first, eos last when it ended on one) and its score.</summary>
public sealed record GeneratedSequence(int[] Ids, float Score);

/// <summary>
/// transformers' greedy search (num_beams = 1), batched. transformers feeds finished rows the pad token until every
/// row ends; rows are independent, so Iris drops them instead, with the same result for the others.
/// </summary>
public static class GreedySearch
{
    public static IReadOnlyList<GeneratedSequence> Run(IDecoderSteps decoder, int batchSize, GenerationSettings settings)
    {
        var sequences = Enumerable.Range(0, batchSize).Select(_ => new List<int> { settings.DecoderStartTokenId }).ToArray();
        var scores = new float[batchSize];
        var vocab = decoder.VocabularySize;
        // Items still generating, in row order; row p of the decoder belongs to active[p].
        var active = Enumerable.Range(0, batchSize).ToList();
        var tokens = Enumerable.Repeat(settings.DecoderStartTokenId, batchSize).ToArray();
        int[] sourceRows = [];
        for (var length = 1; length < settings.EffectiveMaxLength && active.Count > 0; length++)
        {
            var logits = decoder.Step(tokens, sourceRows);
            var next = new List<int>(active.Count);
            var nextTokens = new List<int>(active.Count);
            var keep = new List<int>(active.Count);
            for (var p = 0; p < active.Count; p++)
            {
                var b = active[p];
                var row = logits.AsSpan(p * vocab, vocab);
                LogitsProcessing.Apply(row, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sequences[b]), settings);
                var token = LogitsProcessing.ArgMax(row);
                sequences[b].Add(token);
                scores[b] += row[token];
                if (settings.EosTokenIds.Contains(token)) continue;
                next.Add(b);
                nextTokens.Add(token);
                keep.Add(p);
            }
            sourceRows = keep.Count == active.Count ? [] : [.. keep];
            active = next;
            tokens = [.. nextTokens];
        }
        return sequences.Select((s, b) => new GeneratedSequence(s.ToArray(), scores[b])).ToList();
    }
}
