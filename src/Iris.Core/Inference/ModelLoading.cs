using Iris.Core.Models;

namespace Iris.Core.Inference;

/// <summary>A model loaded into memory (ONNX sessions, labels, tokenizers), ready to serve requests.</summary>
public interface ILoadedModel : IDisposable
{
    ModelManifest Manifest { get; }

    /// <summary>What loading decided that an operator may want to know (a graph rewrite made or declined), logged when the model is ready.</summary>
    string? LoadNote => null;
}

/// <summary>
/// Turns an installed model of one task into an <see cref="ILoadedModel"/>. One per task (detect, classify, …);
/// the runtime picks the loader by the manifest's task.
/// </summary>
public interface IModelLoader
{
    string Task { get; }

    /// <summary>Loads the model and runs it once, so the first user request does not pay for ONNX Runtime's first-run set-up.</summary>
    Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken);
}

/// <summary>Where an installed model's files are.</summary>
public sealed record ModelFiles(string Directory)
{
    public string Path(string relativePath) => System.IO.Path.Combine(Directory, relativePath);
}
