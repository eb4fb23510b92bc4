using Iris.Core.Captioning;

namespace Iris.Tests.Captioning;

public sealed class LogitsProcessingTests
{
    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_scores_once_per_token()
    {
        float[] scores = [2f, -2f, 1f, 3f];
        LogitsProcessing.ApplyRepetitionPenalty(scores, [0, 1, 1, 1], 2f);
        Assert.Equal([1f, -4f, 1f, 3f], scores);
    }

    [Theory]
    [InlineData(new[] { 5, 6, 7, 5, 6 }, 3, new[] { 7 })]
    [InlineData(new[] { 1, 2, 1, 3, 1 }, 2, new[] { 2, 3 })]
    [InlineData(new[] { 4, 4 }, 1, new[] { 4 })]
    [InlineData(new[] { 1, 2 }, 4, new int[0])]
    [InlineData(new[] { 1, 2, 3, 1, 2, 4 }, 3, new int[0])]
    public void No_repeat_ngram_bans_exactly_the_tokens_that_would_repeat_an_ngram(int[] sequence, int n, int[] banned)
    {
        var scores = new float[8];
        LogitsProcessing.BanRepeatedNgrams(scores, sequence, n);
        Assert.Equal(banned.Order(), Enumerable.Range(0, 8).Where(t => float.IsNegativeInfinity(scores[t])));
    }

    [Fact]
    public void Min_length_forbids_eos_until_the_sequence_is_long_enough()
    {
        var settings = new GenerationSettings { EosTokenIds = [0], MinLength = 3 };
        var scores = new float[4];
        LogitsProcessing.Apply(scores, [0, 5], settings);
        Assert.True(float.IsNegativeInfinity(scores[0]));
        scores = new float[4];
        LogitsProcessing.Apply(scores, [0, 5, 6], settings);
        Assert.Equal(0f, scores[0]);
    }

    [Fact]
    public void Log_softmax_is_a_log_probability_distribution()
    {
        float[] scores = [1f, 2f, 3f, float.NegativeInfinity];
        LogitsProcessing.LogSoftmax(scores);
        Assert.Equal(1.0, scores.Sum(s => Math.Exp(s)), 6);
        Assert.True(float.IsNegativeInfinity(scores[3]));
    }
}

/// <summary>
/// Greedy and beam search against a toy decoder whose next-token distribution depends on the last two tokens of
/// its own cached history, so a beam that continues the wrong row's cache gets the wrong probabilities.
/// Tokens: 0 = eos/start, 1 = A, 2 = B, 3 = C.
/// </summary>
public sealed class BeamSearchTests
{
    private sealed class ToyDecoder(int images, Func<int, int, int, double[]> distribution) : IDecoderSteps
    {
        public ToyDecoder(int images, Func<int, int, double[]> distribution) : this(images, (_, a, b) => distribution(a, b)) { }

        private (int Image, List<int> History)[] _rows = Enumerable.Range(0, images).Select(i => (i, new List<int>())).ToArray();
        public int VocabularySize => 4;
        public int Steps { get; private set; }
        public List<int> RowsPerStep { get; } = [];

        public float[] Step(ReadOnlySpan<int> tokens, ReadOnlySpan<int> sourceRows)
        {
            if (!sourceRows.IsEmpty)
            {
                var previous = _rows;
                _rows = sourceRows.ToArray().Select(r => (previous[r].Image, previous[r].History.ToList())).ToArray();
            }
            Assert.Equal(_rows.Length, tokens.Length);
            var logits = new float[_rows.Length * 4];
            for (var r = 0; r < _rows.Length; r++)
            {
                var h = _rows[r].History;
                h.Add(tokens[r]);
                var p = distribution(_rows[r].Image, h.Count > 1 ? h[^2] : -1, h[^1]);
                for (var t = 0; t < 4; t++) logits[r * 4 + t] = (float)Math.Log(p[t]);
            }
            Steps++;
            RowsPerStep.Add(_rows.Length);
            return logits;
        }
    }

    // After the start token: A 0.5, B 0.4, eos 0.1. After A: flat. After B: eos 0.9.
    // After "A A" the cache says eos is likely; after "B A" it never is.
    private static double[] Chain(int beforeLast, int last) => (beforeLast, last) switch
    {
        (-1, 0) => [0.1, 0.5, 0.4, 0.0001],
        (_, 2) => [0.9, 0.04, 0.04, 0.02],
        (1, 1) => [0.6, 0.2, 0.1, 0.1],
        (2, 1) => [0.0001, 0.4, 0.3, 0.2999],
        (_, 1) => [0.3, 0.35, 0.35, 0.0],
        _ => [0.25, 0.25, 0.25, 0.25],
    };

    private static GenerationSettings Settings(int beams, int maxNew = 6) =>
        new() { DecoderStartTokenId = 0, EosTokenIds = [0], PadTokenId = 0, NumBeams = beams, MaxNewTokens = maxNew };

    [Fact]
    public void Greedy_takes_the_most_likely_token_each_step()
    {
        var result = GreedySearch.Run(new ToyDecoder(1, Chain), 1, Settings(1));
        // start → A (0.5) → A or B tie at 0.35: the first (A) → "A A" → eos 0.6.
        Assert.Equal([0, 1, 1, 0], result[0].Ids);
    }

    [Fact]
    public void Beam_search_finds_the_better_scored_short_hypothesis_greedy_misses()
    {
        var result = BeamSearch.Run(new ToyDecoder(1, Chain), 1, Settings(2));
        // "B eos": (ln .4 + ln .9) / 2 = -0.511 beats "A A eos": (ln .5 + ln .35 + ln .6) / 3 = -0.753.
        Assert.Equal([0, 2, 0], result[0].Ids);
        // The toy distribution sums to 1.0001, so log-softmax shifts the score in the fourth decimal.
        Assert.Equal((Math.Log(0.4) + Math.Log(0.9)) / 2, result[0].Score, 3);
    }

    [Fact]
    public void Length_penalty_below_zero_prefers_short_and_above_one_prefers_long_hypotheses()
    {
        var longer = BeamSearch.Run(new ToyDecoder(1, Chain), 1, Settings(3) with { LengthPenalty = 8f });
        Assert.True(longer[0].Ids.Length > 3, string.Join(' ', longer[0].Ids));
        var shorter = BeamSearch.Run(new ToyDecoder(1, Chain), 1, Settings(3) with { LengthPenalty = -1f });
        Assert.Equal(3, shorter[0].Ids.Length);
    }

    [Fact]
    public void Batched_beam_search_gives_each_item_what_it_gets_alone_and_reorders_the_right_rows()
    {
        var alone = BeamSearch.Run(new ToyDecoder(1, Chain), 1, Settings(3) with { LengthPenalty = 8f })[0];
        var decoder = new ToyDecoder(3, Chain);
        var batch = BeamSearch.Run(decoder, 3, Settings(3) with { LengthPenalty = 8f });
        Assert.All(batch, b => Assert.Equal(alone.Ids, b.Ids));
        Assert.All(batch, b => Assert.Equal(alone.Score, b.Score));
    }

    [Fact]
    public void Beam_search_stops_at_max_length_with_the_running_beams_as_hypotheses()
    {
        var flat = (int _, int _) => new[] { 0.01, 0.33, 0.33, 0.33 };
        var result = BeamSearch.Run(new ToyDecoder(1, flat), 1, Settings(2, maxNew: 4));
        Assert.Equal(5, result[0].Ids.Length);
        Assert.NotEqual(0, result[0].Ids[^1]);
    }

    [Fact]
    public void Early_stopping_true_stops_once_num_beams_hypotheses_are_finished()
    {
        var decoder = new ToyDecoder(1, Chain);
        BeamSearch.Run(decoder, 1, Settings(2, maxNew: 20) with { EarlyStopping = EarlyStopping.True, LengthPenalty = 8f });
        var never = new ToyDecoder(1, Chain);
        BeamSearch.Run(never, 1, Settings(2, maxNew: 20) with { EarlyStopping = EarlyStopping.Never, LengthPenalty = 8f });
        Assert.True(decoder.Steps < never.Steps, $"early stopping ran {decoder.Steps} steps, 'never' ran {never.Steps}");
    }

    [Fact]
    public void Greedy_batch_stops_when_all_rows_end()
    {
        var decoder = new ToyDecoder(2, Chain);
        var result = GreedySearch.Run(decoder, 2, Settings(1));
        Assert.All(result, r => Assert.Equal([0, 1, 1, 0], r.Ids));
        Assert.Equal(3, decoder.Steps);
    }

    [Fact]
    public void Greedy_drops_a_finished_row_and_the_others_continue_unchanged()
    {
        // Image 0 follows the chain and ends after 3 tokens; image 1 never sees eos and runs to max length, alone.
        var decoder = new ToyDecoder(2, (image, a, b) => image == 1 ? [0.0, 0.2, 0.5, 0.3] : Chain(a, b));
        var result = GreedySearch.Run(decoder, 2, Settings(1, maxNew: 6));
        Assert.Equal([0, 1, 1, 0], result[0].Ids);
        Assert.Equal([0, 2, 2, 2, 2, 2, 2], result[1].Ids);
        Assert.Equal([2, 2, 2, 1, 1, 1], decoder.RowsPerStep);
    }

    [Fact]
    public void Beam_search_runs_its_first_step_once_per_image_then_one_row_per_beam_until_an_item_is_done()
    {
        var decoder = new ToyDecoder(2, Chain);
        BeamSearch.Run(decoder, 2, Settings(3));
        Assert.Equal(2, decoder.RowsPerStep[0]);
        Assert.Equal(6, decoder.RowsPerStep[1]);
    }
}
