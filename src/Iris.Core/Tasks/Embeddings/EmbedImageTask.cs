using System.Diagnostics;
using Iris.Core.Embeddings;
using Iris.Core.Inference;

namespace Iris.Core.Tasks.Embeddings;

/// <summary>An image's L2-normalised embedding in a CLIP model's joint space.</summary>
public sealed record ImageEmbedding(string Model, float[] Vector, double EmbedMs);

/// <summary><c>embed</c> of an image. Parameter <c>model</c> (default Embeddings:Model).</summary>
public sealed class EmbedImageTask(ModelRuntime models, EmbedImageTask.Defaults defaults) : ImageTask<EmbedImageTask.Parameters, ImageEmbedding>
{
    /// <summary>Embeddings:Model.</summary>
    public sealed record Defaults(string Model);

    public sealed record Parameters(string Model) : ITaskParameters;

    public override string Name => "embed";

    public override Parameters Read(ParameterReader reader) => new(reader.String("model") ?? defaults.Model);

    public override async Task<Func<TaskInput, CancellationToken, Task<ImageEmbedding>>> PrepareAsync(Parameters parameters, CancellationToken cancellationToken)
    {
        var model = await models.GetAsync<ClipModel>(parameters.Model, "embed", cancellationToken);
        return async (input, ct) =>
        {
            var started = Stopwatch.GetTimestamp();
            var vector = (await model.EmbedImagesAsync([input.Image], ct))[0].Vector;
            return new ImageEmbedding(model.Manifest.Name, vector, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        };
    }

    public override string? ModelOf(ImageEmbedding result) => result.Model;
}
