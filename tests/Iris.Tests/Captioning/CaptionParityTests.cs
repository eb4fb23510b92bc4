using Iris.Core.Captioning;
using Iris.Core.Inference;
using Iris.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Tests.Captioning;

/// <summary>One captioner per variant, loaded straight from the mirror's folder as Hugging Face exported it.</summary>
public sealed class FlowerCaptioners : IDisposable
{
    private static readonly OnnxSessionFactory Sessions = new(new InferenceSettings(1, 0, GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode.ORT_SEQUENTIAL, 0));

    public ImageCaptioner Full { get; } = Load(quantized: false);
    public ImageCaptioner Quantized { get; } = Load(quantized: true);

    public static ImageCaptioner Load(bool quantized, bool hoistEncoderWork = true)
    {
        var manifest = FlowerReference.Manifest("flower-captioner-tiny");
        if (quantized || !hoistEncoderWork)
            manifest = manifest with
            {
                Sections = new() { ["captioner"] = System.Text.Json.JsonSerializer.SerializeToElement(new { quantized, hoist_encoder_work = hoistEncoderWork }) },
            };
        return ImageCaptionerLoader.Load(manifest, FlowerReference.MirrorFolder("flower-captioner-tiny"), Sessions);
    }

    public void Dispose()
    {
        Full.Dispose();
        Quantized.Dispose();
    }
}

public sealed class CaptionParityTests(FlowerCaptioners captioners) : IClassFixture<FlowerCaptioners>
{
    private static readonly GenerationOverrides Greedy = new() { MaxNewTokens = 32, NumBeams = 1 };
    private static readonly GenerationOverrides Beam3 = new() { MaxNewTokens = 32, NumBeams = 3 };

    [Theory]
    [MemberData(nameof(FlowerReference.ImageFiles), MemberType = typeof(FlowerReference))]
    public async Task Greedy_caption_and_token_ids_equal_the_transformers_reference(string file)
    {
        var reference = FlowerReference.ForFile(file);
        var batch = await captioners.Full.DescribeAsync(FlowerReference.Decode(file), Greedy);
        Assert.Equal(FlowerReference.Trim(reference.Greedy.Ids, 0), batch.Captions[0].TokenIds);
        Assert.Equal(reference.Greedy.Text, batch.Captions[0].Text);
    }

    [Theory]
    [MemberData(nameof(FlowerReference.ImageFiles), MemberType = typeof(FlowerReference))]
    public async Task Beam_search_caption_and_token_ids_equal_the_transformers_reference(string file)
    {
        var reference = FlowerReference.ForFile(file);
        var batch = await captioners.Full.DescribeAsync(FlowerReference.Decode(file), Beam3);
        Assert.Equal(FlowerReference.Trim(reference.Beam3.Ids, 0), batch.Captions[0].TokenIds);
        Assert.Equal(reference.Beam3.Text, batch.Captions[0].Text);
    }

    [Fact]
    public async Task Batched_generation_of_all_twenty_flowers_equals_the_reference_for_greedy_and_beam_search()
    {
        var images = FlowerReference.Images.Select(i => FlowerReference.Decode(i.File)).ToList();
        var greedy = await captioners.Full.DescribeAsync(images, Greedy);
        var beam = await captioners.Full.DescribeAsync(images, Beam3);
        for (var i = 0; i < images.Count; i++)
        {
            var reference = FlowerReference.Images[i];
            Assert.Equal(FlowerReference.Trim(reference.Greedy.Ids, 0), greedy.Captions[i].TokenIds);
            Assert.Equal(FlowerReference.Trim(reference.Beam3.Ids, 0), beam.Captions[i].TokenIds);
            Assert.Equal(reference.Beam3.Text, beam.Captions[i].Text);
        }
    }

    [Fact]
    public void Generation_defaults_come_from_generation_config_json()
    {
        var settings = captioners.Full.Generation;
        Assert.Equal(0, settings.DecoderStartTokenId);
        Assert.Equal([0], settings.EosTokenIds);
        Assert.Equal(0, settings.PadTokenId);
        Assert.Equal(40, settings.MaxLength);
        Assert.Equal(1, settings.NumBeams);
        Assert.Equal("merged", captioners.Full.DecoderLayout);
    }

    [Fact]
    public async Task Max_new_tokens_cuts_the_caption_without_an_eos()
    {
        var batch = await captioners.Full.DescribeAsync(FlowerReference.Decode("flower-00.png"), new GenerationOverrides { MaxNewTokens = 3 });
        Assert.Equal(FlowerReference.ForFile("flower-00.png").Greedy.Ids[..4], batch.Captions[0].TokenIds);
        Assert.Equal(3, batch.Timings.DecoderSteps);
    }

    [Fact]
    public async Task Quantized_captioner_agrees_with_full_precision_on_most_flowers()
    {
        var images = FlowerReference.Images.Select(i => FlowerReference.Decode(i.File)).ToList();
        var full = await captioners.Full.DescribeAsync(images, Greedy);
        var quantized = await captioners.Quantized.DescribeAsync(images, Greedy);
        var same = full.Captions.Zip(quantized.Captions).Count(p => p.First.Text == p.Second.Text);
        // Recorded in the README; int8 weights shift some petal counts.
        Console.WriteLine($"quantized captions equal to full precision: {same}/{images.Count}");
        Assert.True(captioners.Quantized.Quantized);
        // 20 of 20 when measured (README); int8 rounding may move a near-tie on another ONNX Runtime build.
        Assert.True(same >= images.Count * 4 / 5, $"only {same}/{images.Count} quantized captions equal the full-precision ones");
    }
}
