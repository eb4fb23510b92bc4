namespace Iris.Core.Captioning;

/// <summary>
/// transformers' beam search (the vectorised <c>_beam_search</c> of transformers 4.5x/5.x), batched, reproduced
/// decision for decision so the same logits give the same captions:
/// <list type="bullet">
/// <item>scores are summed log-softmax values (float32), logits processors applied to the log-probabilities;</item>
/// <item>each step keeps the top <c>max(2, 1 + #eos) × num_beams</c> continuations across all beams;</item>
/// <item>a continuation that ends (eos or max length) becomes a finished hypothesis only when it ranks among the
/// top num_beams, scored by its sum of log-probs divided by (generated length, eos included) ^ length_penalty;</item>
/// <item>the best num_beams continuations that do not end go on running;</item>
/// <item>an item stops when no running beam can beat its worst finished one (early_stopping false), as soon as
/// num_beams hypotheses are finished (true), or at max length.</item>
/// </list>
/// </summary>
public static class BeamSearch
{
    // transformers masks with -1e9 rather than -inf so that arithmetic on masked scores stays finite.
    private const float Masked = -1.0e9f;

    private sealed class Item(int beams, int startToken)
    {
        public List<int>[] Running = Enumerable.Range(0, beams).Select(_ => new List<int> { startToken }).ToArray();
        public float[] RunningScores = Enumerable.Range(0, beams).Select(i => i == 0 ? 0f : Masked).ToArray();
        public int[]?[] Finished = new int[]?[beams];
        public float[] FinishedScores = Enumerable.Repeat(Masked, beams).ToArray();
        public bool[] IsFinished = new bool[beams];
        public bool ImprovementPossible = true;
        public bool Done;
    }

    public static IReadOnlyList<GeneratedSequence> Run(IDecoderSteps decoder, int batchSize, GenerationSettings settings)
    {
        int beams = settings.NumBeams, vocab = decoder.VocabularySize, maxLength = settings.EffectiveMaxLength;
        var keep = Math.Max(2, 1 + settings.EosTokenIds.Count) * beams;
        const int promptLength = 1;
        var items = Enumerable.Range(0, batchSize).Select(_ => new Item(beams, settings.DecoderStartTokenId)).ToArray();
        // Items still searching, in row order. All beams of an item are the same on the first step, so that step runs
        // one row per item (transformers runs num_beams identical rows; the scores are the same) and then fans out.
        var active = Enumerable.Range(0, batchSize).ToList();
        var tokens = Enumerable.Repeat(settings.DecoderStartTokenId, batchSize).ToArray();
        int[] sourceRows = [];
        var firstStep = true;

        for (var length = 1; length < maxLength && active.Count > 0; length++)
        {
            var logits = decoder.Step(tokens, sourceRows);
            var nextTokens = new List<int>(active.Count * beams);
            var nextSources = new List<int>(active.Count * beams);
            var stillActive = new List<int>(active.Count);
            for (var p = 0; p < active.Count; p++)
            {
                var b = active[p];
                var item = items[b];
                // Accumulated log-probabilities of every (beam, token) continuation.
                var candidates = new TopK(keep);
                for (var j = 0; j < beams; j++)
                {
                    var row = logits.AsSpan((firstStep ? p : p * beams + j) * vocab, vocab).ToArray().AsSpan();
                    LogitsProcessing.LogSoftmax(row);
                    LogitsProcessing.Apply(row, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(item.Running[j]), settings);
                    var beamScore = item.RunningScores[j];
                    for (var t = 0; t < vocab; t++)
                        candidates.Offer(row[t] + beamScore, j * vocab + t);
                }
                var top = candidates.Sorted();
                var hits = new bool[top.Count];
                for (var c = 0; c < top.Count; c++)
                    hits[c] = settings.EosTokenIds.Contains(top[c].Index % vocab) || length + 1 >= maxLength;

                // Finished hypotheses: merge the newly ended top-num_beams continuations with those kept so far.
                var divisor = (float)Math.Pow(length + 1 - promptLength, settings.LengthPenalty);
                var allFinished = item.IsFinished.All(f => f);
                var merged = new List<(float Score, int[]? Ids, bool Finished)>(beams + top.Count);
                for (var j = 0; j < beams; j++) merged.Add((item.FinishedScores[j], item.Finished[j], item.IsFinished[j]));
                for (var c = 0; c < top.Count; c++)
                {
                    var ended = hits[c] && c < beams;
                    var score = top[c].Score / divisor;
                    if (allFinished && settings.EarlyStopping == EarlyStopping.True) score += Masked;
                    if (!item.ImprovementPossible) score += Masked;
                    if (!ended) score += Masked;
                    merged.Add((score, ended ? Extend(item.Running[top[c].Index / vocab], top[c].Index % vocab) : null, ended));
                }
                var best = TopIndices(merged.Select(m => m.Score).ToArray(), beams);
                item.Finished = best.Select(i => merged[i].Ids).ToArray();
                item.FinishedScores = best.Select(i => merged[i].Score).ToArray();
                item.IsFinished = best.Select(i => merged[i].Finished).ToArray();

                // Running beams: the best continuations that did not end.
                var runningScores = top.Select((t, c) => hits[c] ? t.Score + Masked : t.Score).ToArray();
                var next = TopIndices(runningScores, beams);
                var previous = item.Running;
                item.Running = next.Select(c => Extend(previous[top[c].Index / vocab], top[c].Index % vocab).ToList()).ToArray();
                item.RunningScores = next.Select(c => runningScores[c]).ToArray();
                var rowOfBeam = new int[beams];
                for (var j = 0; j < beams; j++)
                {
                    var c = next[j];
                    rowOfBeam[j] = firstStep ? p : p * beams + top[c].Index / vocab;
                }

                // Can a running beam still beat the worst finished hypothesis?
                var lengthSoFar = settings.EarlyStopping == EarlyStopping.Never && settings.LengthPenalty > 0
                    ? maxLength - promptLength
                    : length + 1 - promptLength;
                var bestRunning = item.RunningScores[0] / (float)Math.Pow(lengthSoFar, settings.LengthPenalty);
                var worstFinished = item.FinishedScores.Min();
                item.ImprovementPossible &= item.IsFinished.Any(f => bestRunning > (f ? worstFinished : Masked));
                var allDone = item.IsFinished.All(f => f);
                item.Done = !item.ImprovementPossible
                    || (allDone && settings.EarlyStopping == EarlyStopping.True)
                    || hits.All(h => h);
                // A finished item's rows are dropped: they can no longer change its hypotheses.
                if (item.Done) continue;
                stillActive.Add(b);
                for (var j = 0; j < beams; j++)
                {
                    nextSources.Add(rowOfBeam[j]);
                    nextTokens.Add(item.Running[j][^1]);
                }
            }
            active = stillActive;
            tokens = [.. nextTokens];
            sourceRows = [.. nextSources];
            firstStep = false;
        }
        return items.Select(i => new GeneratedSequence(i.Finished[0] ?? [.. i.Running[0]], i.FinishedScores[0])).ToList();
    }

    private static int[] Extend(List<int> sequence, int token)
    {
        var result = new int[sequence.Count + 1];
        sequence.CopyTo(result);
        result[^1] = token;
        return result;
    }

    /// <summary>Indices of the <paramref name="k"/> largest values, largest first; the lower index first on a tie.</summary>
    internal static int[] TopIndices(float[] values, int k) =>
        Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k).ToArray();

    /// <summary>Keeps the k best (score, index) pairs seen, without sorting the whole beams × vocabulary row.</summary>
    private sealed class TopK(int k)
    {
        private readonly List<(float Score, int Index)> _items = new(k + 1);

        public void Offer(float score, int index)
        {
            if (_items.Count == k && !Better(score, index, _items[^1])) return;
            var at = _items.Count;
            while (at > 0 && Better(score, index, _items[at - 1])) at--;
            _items.Insert(at, (score, index));
            if (_items.Count > k) _items.RemoveAt(k);
        }

        private static bool Better(float score, int index, (float Score, int Index) other) =>
            score > other.Score || (score == other.Score && index < other.Index);

        public List<(float Score, int Index)> Sorted() => _items;
    }
}
