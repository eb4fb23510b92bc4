using Iris.Core.Imaging;

namespace Iris.Core.Analysis;

/// <summary>One image, decoded once and shared by every task of an analysis: the original bytes (for header and EXIF) and the pixels.</summary>
public sealed record AnalysisInput(byte[] Source, DecodedImage Image);

/// <summary>A prepared task: its parameters parsed and its model loaded; running it produces the task's section of the result.</summary>
public delegate Task<object> PreparedAnalysis(AnalysisInput input, CancellationToken cancellationToken);

/// <summary>
/// One thing <c>analyze</c> can do to an image (detect, faces, classify, info, …). Adding a task is one class and one
/// DI registration; <see cref="ImageAnalyzer"/> discovers it by <see cref="Name"/>.
/// </summary>
public interface IAnalysisTask
{
    /// <summary>The name used in <c>tasks=</c> and as the key of the task's section, lower case.</summary>
    string Name { get; }

    /// <summary>
    /// True for tasks that run a model. Model tasks run one after another (bounded by Analyze:MaxParallelModelTasks), since
    /// one ONNX run already uses every core; tasks without a model run beside them.
    /// </summary>
    bool UsesModel { get; }

    /// <summary>
    /// Parses the task's parameters and loads its model before any pixel is decoded, so a bad parameter (throw
    /// <see cref="InvalidAnalysisParameterException"/>) or a model that is not ready fails the request at once.
    /// </summary>
    Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken);

    /// <summary>
    /// Checks the task's parameters without loading anything, for callers that accept work now and run it later
    /// (jobs): throws <see cref="InvalidAnalysisParameterException"/>.
    /// </summary>
    void Validate(AnalysisParameters parameters);
}
