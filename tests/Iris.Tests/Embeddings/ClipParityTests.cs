using Iris.Core.Embeddings;
using Iris.Core.Inference;
using Iris.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Tests.Embeddings;

public sealed class ClipTiny : IDisposable
{
    public ClipModel Model { get; } = ClipModelLoader.Load(FlowerReference.Manifest("clip-tiny"), FlowerReference.MirrorFolder("clip-tiny"),
        new OnnxSessionFactory(new InferenceSettings(1, 0, GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode.ORT_SEQUENTIAL, 0)));

    public void Dispose() => Model.Dispose();
}

public sealed class ClipParityTests(ClipTiny clip) : IClassFixture<ClipTiny>
{
    public static IEnumerable<object[]> QueryTexts => FlowerReference.Queries.Select(q => new object[] { q.Text });

    [Theory]
    [MemberData(nameof(FlowerReference.ImageFiles), MemberType = typeof(FlowerReference))]
    public async Task Image_embedding_has_cosine_at_least_0_9999_with_the_reference(string file)
    {
        var embedding = (await clip.Model.EmbedImagesAsync([FlowerReference.Decode(file)]))[0];
        var cosine = FlowerReference.Cosine(embedding.Vector, FlowerReference.ForFile(file).ClipImageEmbeds);
        Assert.True(cosine >= 0.9999, $"cosine {cosine:F6}");
        Assert.Equal(64, embedding.Vector.Length);
        Assert.Equal(1.0, Math.Sqrt(embedding.Vector.Sum(v => (double)v * v)), 5);
    }

    [Theory]
    [MemberData(nameof(QueryTexts))]
    public async Task Text_token_ids_equal_the_reference_and_embedding_cosine_is_at_least_0_9999(string text)
    {
        var reference = FlowerReference.Queries.Single(q => q.Text == text);
        var embedding = (await clip.Model.EmbedTextsAsync([text]))[0];
        Assert.Equal(reference.InputIds, embedding.TokenIds);
        var cosine = FlowerReference.Cosine(embedding.Vector, reference.TextEmbeds);
        Assert.True(cosine >= 0.9999, $"cosine {cosine:F6}");
    }

    [Fact]
    public async Task A_padded_batch_of_texts_embeds_each_text_as_it_would_alone()
    {
        var texts = FlowerReference.Queries.Select(q => q.Text).ToList();
        var batch = await clip.Model.EmbedTextsAsync(texts);
        for (var i = 0; i < texts.Count; i++)
            Assert.True(FlowerReference.Cosine(batch[i].Vector, FlowerReference.Queries[i].TextEmbeds) >= 0.9999);
    }

    [Fact]
    public async Task Batched_images_embed_as_they_do_alone()
    {
        var images = FlowerReference.Images.Select(i => FlowerReference.Decode(i.File)).ToList();
        var batch = await clip.Model.EmbedImagesAsync(images);
        for (var i = 0; i < images.Count; i++)
            Assert.True(FlowerReference.Cosine(batch[i].Vector, FlowerReference.Images[i].ClipImageEmbeds) >= 0.9999);
    }

    [Fact]
    public async Task Text_longer_than_the_model_max_length_is_truncated_keeping_start_and_end_tokens()
    {
        var text = string.Join(' ', Enumerable.Repeat("red flower", 40));
        var embedding = (await clip.Model.EmbedTextsAsync([text]))[0];
        Assert.Equal(32, embedding.TokenIds!.Length);
        Assert.Equal(0, embedding.TokenIds[0]);
        Assert.Equal(1, embedding.TokenIds[^1]);
    }

    [Fact]
    public async Task Zero_shot_ranks_the_true_petal_colour_first_for_most_flowers()
    {
        var colours = new[] { "red", "orange", "yellow", "white", "pink", "purple", "blue" };
        var right = 0;
        foreach (var image in FlowerReference.Images)
        {
            var result = await ZeroShotClassifier.ClassifyAsync(clip.Model, FlowerReference.Decode(image.File), colours.Select(c => c + " flower").ToList(), "{}");
            Assert.Equal(1.0, result.Labels.Sum(l => l.Score), 4);
            // Truths read "a flower with four purple pointed petals …": the fifth word is the petal colour.
            if (result.Labels[0].Label == image.Truth.Split(' ')[4] + " flower") right++;
        }
        Assert.True(right >= 14, $"only {right}/20 flowers got their petal colour first");
    }

    [Fact]
    public async Task A_vision_only_export_embeds_images_and_refuses_text_with_the_reason()
    {
        var builtIn = FlowerReference.Manifest("clip-tiny");
        var manifest = builtIn with { Files = [.. builtIn.Files.Where(f => !f.Path.Contains("text_model"))] };
        using var vision = ClipModelLoader.Load(manifest, FlowerReference.MirrorFolder("clip-tiny"), new OnnxSessionFactory(new InferenceSettings(1)));
        Assert.True(vision.HasVision);
        Assert.False(vision.HasText);
        Assert.Single(await vision.EmbedImagesAsync([FlowerReference.Decode("flower-00.png")]));
        var error = await Assert.ThrowsAsync<EmbeddingInputNotSupportedException>(() => vision.EmbedTextsAsync(["red flower"]));
        Assert.Contains("text_model.onnx", error.Message);
    }
}
