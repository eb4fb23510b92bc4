using Iris.Core.Captioning;
using Iris.Tests.Support;

namespace Iris.Tests.Captioning;

/// <summary>
/// The decoder split (cross-attention keys and values computed once per image) against the graph run whole as
/// exported: the same tokens and the same scores, through greedy and beam search, one image or a batch.
/// </summary>
public sealed class EncoderWorkHoistingTests(FlowerCaptioners captioners) : IClassFixture<FlowerCaptioners>
{
    [Fact]
    public void The_flower_captioners_compute_their_cross_attention_once_per_image()
    {
        Assert.Equal("6 tensors computed once per image", captioners.Full.EncoderWorkHoisting);
        Assert.Equal("6 tensors computed once per image", captioners.Quantized.EncoderWorkHoisting);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    [InlineData(true, 3)]
    public async Task Split_decoder_gives_the_whole_graphs_tokens_and_scores_for_a_batch(bool quantized, int beams)
    {
        using var whole = FlowerCaptioners.Load(quantized, hoistEncoderWork: false);
        Assert.Equal("off", whole.EncoderWorkHoisting);
        var split = quantized ? captioners.Quantized : captioners.Full;
        // Batches drop finished rows and multiply beams, so the split-off tensors are gathered by row as well.
        var images = FlowerReference.Images.Select(i => FlowerReference.Decode(i.File)).ToList();
        var overrides = new GenerationOverrides { MaxNewTokens = 32, NumBeams = beams };
        var expected = await whole.DescribeAsync(images, overrides);
        var actual = await split.DescribeAsync(images, overrides);
        for (var i = 0; i < images.Count; i++)
        {
            Assert.Equal(expected.Captions[i].TokenIds, actual.Captions[i].TokenIds);
            Assert.Equal(expected.Captions[i].Score, actual.Captions[i].Score);
        }
        Assert.Equal(expected.Timings.DecoderSteps, actual.Timings.DecoderSteps);
    }
}
