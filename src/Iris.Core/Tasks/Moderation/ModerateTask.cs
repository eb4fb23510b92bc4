using Iris.Core.Classification;
using Iris.Core.Inference;
using Iris.Core.Moderation;

namespace Iris.Core.Tasks.Moderation;

/// <summary>
/// <c>moderate</c>: content safety. Runs a content-safety classifier (a <c>classify</c> model with the classes Porn, Hentai
/// and Sexy, by default nsfw-mobilenet-v2) and judges the image unsafe when any of those classes' probability is above its
/// threshold. Parameters <c>model</c>, <c>porn_threshold</c>, <c>hentai_threshold</c>, <c>sexy_threshold</c> (0–1).
/// </summary>
public sealed class ModerateTask(ModelRuntime models, ModerateTask.Defaults defaults)
    : ModelTask<ModerateTask.Parameters, ImageClassifier, ModerationResult>(models, "classify")
{
    /// <summary>Moderation:Model and Moderation:PornThreshold, HentaiThreshold, SexyThreshold.</summary>
    public sealed record Defaults(string Model, ModerationThresholds Thresholds);

    public sealed record Parameters(string Model, ModerationThresholds Thresholds) : IModelParameters;

    public override string Name => "moderate";

    public Defaults Default => defaults;

    public override Parameters Read(ParameterReader reader) => new(
        reader.String("model") ?? defaults.Model,
        new ModerationThresholds(
            reader.Float("porn_threshold", defaults.Thresholds.Porn, 0f, 1f),
            reader.Float("hentai_threshold", defaults.Thresholds.Hentai, 0f, 1f),
            reader.Float("sexy_threshold", defaults.Thresholds.Sexy, 0f, 1f)));

    public override async Task<ModerationResult> RunAsync(ImageClassifier model, Parameters parameters, TaskInput input, CancellationToken cancellationToken)
    {
        var missing = parameters.Thresholds.ByClass.Keys.Where(c => model.Labels?.Contains(c) != true).ToList();
        if (missing.Count > 0)
            throw new InvalidParameterException(
                $"Model '{model.Manifest.Name}' has no class {string.Join(", ", missing)}; moderate needs a content-safety classifier such as nsfw-mobilenet-v2.",
                "model");
        var result = await model.ClassifyAsync(input.Image, new ClassificationParameters(model.Labels!.Count, 0f), cancellationToken);
        var classes = result.Predictions.OrderBy(p => p.ClassIndex).ToList();
        return ModerationResult.Judge(result.Model, classes, parameters.Thresholds, result.Timings);
    }

    public override string? ModelOf(ModerationResult result) => result.Model;
}
