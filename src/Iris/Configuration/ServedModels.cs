namespace Iris.Configuration;

/// <summary>
/// The models the server preloads at start-up and checks in readiness: <c>Models:Preload</c> (or its older name
/// <c>Models:Enabled</c>), where <c>auto</c> (the default)
/// stands for the default model of every task Iris answers without being told a model. Every task's route is always
/// mapped, and facades, jobs and Kafka requests run the same tasks with the same defaults, so these are the models a
/// request can need; loading them first means no request waits for a model load (the first caption took ~1 s).
/// </summary>
public static class ServedModels
{
    public const string Auto = "auto";

    public static IReadOnlyList<string> Of(IrisOptions options) =>
        options.Models.EnabledModels
            .SelectMany(name => name.Equals(Auto, StringComparison.OrdinalIgnoreCase) ? TaskDefaults(options) : [name])
            .Distinct(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Detection, Faces, Classification, Ocr, Captioning and Embeddings' Model, in that order, then Predictions:Model
    /// when it names a classifier of its own for the classifier service's route.
    /// </summary>
    public static IReadOnlyList<string> TaskDefaults(IrisOptions options) =>
    [
        options.Detection.Model, options.Faces.Model, options.Classification.Model,
        options.Ocr.Model, options.Captioning.Model, options.Embeddings.Model,
        .. options.Predictions.Model.Length > 0 ? [options.Predictions.Model] : Array.Empty<string>(),
    ];
}
