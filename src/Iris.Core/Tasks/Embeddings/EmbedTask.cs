using System.Diagnostics;
using Iris.Core.Embeddings;
using Iris.Core.Imaging;
using Iris.Core.Inference;

namespace Iris.Core.Tasks.Embeddings;

/// <summary>An image's L2-normalised embedding in a CLIP model's joint space.</summary>
public sealed record ImageEmbedding(string Model, float[] Vector, double EmbedMs);

/// <summary>A text's L2-normalised embedding in the same space, with the token ids the model's tokenizer gave it.</summary>
public sealed record TextEmbedding(string Model, float[] Vector, int[]? TokenIds, double EmbedMs);

/// <summary>
/// <c>embed</c>: an image (through the pipeline, like every image task) or a text (<see cref="EmbedTextAsync"/>) into a CLIP
/// model's joint space. Parameter <c>model</c> (default Embeddings:Model).
/// </summary>
public sealed class EmbedTask(ModelRuntime models, EmbedTask.Defaults defaults)
    : ModelTask<EmbedTask.Parameters, ClipModel, ImageEmbedding>(models, "embed")
{
    /// <summary>Embeddings:Model.</summary>
    public sealed record Defaults(string Model);

    public sealed record Parameters(string Model) : IModelParameters;

    public override string Name => "embed";

    public override Parameters Read(ParameterReader reader) => new(reader.String("model") ?? defaults.Model);

    public override DecodeNeed InputNeed(ClipModel model, Parameters parameters) => model.Processor?.InputNeed ?? DecodeNeed.FullResolution;

    public override async Task<ImageEmbedding> RunAsync(ClipModel model, Parameters parameters, TaskInput input, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var vector = (await model.EmbedImagesAsync([input.Image], cancellationToken))[0].Vector;
        return new ImageEmbedding(model.Manifest.Name, vector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public override string? ModelOf(ImageEmbedding result) => result.Model;

    public async Task<TextEmbedding> EmbedTextAsync(Parameters parameters, string text, CancellationToken cancellationToken)
    {
        using var use = ModelUse.Begin();
        var model = await LoadAsync(parameters, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var embedding = (await model.EmbedTextsAsync([text], cancellationToken))[0];
        return new TextEmbedding(model.Manifest.Name, embedding.Vector, embedding.TokenIds, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
