using Iris.Core.Tasks;
using Iris.Core.Tasks.Faces;

namespace Iris.Core.Faces.Recognition;

/// <summary>
/// The domain's way to the faces of an image with their descriptors (the people registry, the library's people): the
/// <c>face-embed</c> task with the configured models, through the one pipeline.
/// </summary>
public sealed class FaceEmbedder(ImageAnalyzer analyzer, FaceEmbedTask task)
{
    public FaceEmbedTask.Parameters Defaults { get; } = task.Read(ParameterReader.None);

    /// <summary>Decodes <paramref name="image"/> and embeds its faces (models loaded first: a missing model costs no decode).</summary>
    public async Task<FaceEmbeddingResult> EmbedAsync(byte[] image, CancellationToken cancellationToken = default) =>
        (await analyzer.RunAsync(task, Defaults, image, cancellationToken)).Result;

    /// <summary>Embeds the faces of an image someone already decoded (the library's indexing decodes once for all its tasks).</summary>
    public async Task<FaceEmbeddingResult> EmbedAsync(TaskInput input, CancellationToken cancellationToken = default) =>
        await task.RunAsync(await task.LoadAsync(Defaults, cancellationToken), Defaults, input, cancellationToken);
}
