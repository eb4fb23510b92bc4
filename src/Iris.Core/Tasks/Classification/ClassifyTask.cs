using Iris.Core.Classification;
using Iris.Core.Imaging;
using Iris.Core.Inference;

namespace Iris.Core.Tasks.Classification;

/// <summary><c>classify</c> with an image classifier. Parameters <c>model</c>, <c>top_k</c> 1–1000, <c>min_confidence</c> 0–1.</summary>
public sealed class ClassifyTask(ModelRuntime models, ClassifyTask.Defaults defaults)
    : ModelTask<ClassifyTask.Parameters, ImageClassifier, ClassificationResult>(models, "classify")
{
    /// <summary>Classification:Model, Classification:TopK, Classification:MinConfidence.</summary>
    public sealed record Defaults(string Model, int TopK, float MinConfidence);

    public sealed record Parameters(string Model, ClassificationParameters Classification) : IModelParameters;

    public const int TopKLimit = 1000;

    public override string Name => "classify";

    public Defaults Default => defaults;

    public override Parameters Read(ParameterReader reader) => new(
        reader.String("model") ?? defaults.Model,
        new ClassificationParameters(
            reader.Int("top_k", defaults.TopK, 1, TopKLimit),
            reader.Float("min_confidence", defaults.MinConfidence, 0f, 1f)));

    public override DecodeNeed InputNeed(ImageClassifier model, Parameters parameters) => model.Settings.Resize == ClassifierResize.CenterCrop
        ? DecodeNeed.ShorterSide(model.Settings.ResizeSize)
        : DecodeNeed.Stretch(model.Settings.InputWidth, model.Settings.InputHeight);

    public override Task<ClassificationResult> RunAsync(ImageClassifier model, Parameters parameters, TaskInput input, CancellationToken cancellationToken) =>
        model.ClassifyAsync(input.Image, parameters.Classification, cancellationToken);

    public override string? ModelOf(ClassificationResult result) => result.Model;
}
