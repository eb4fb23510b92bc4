using Iris.Core.Embeddings;
using Iris.Core.Imaging;
using Iris.Core.Inference;

namespace Iris.Core.Tasks.Classification;

/// <summary>
/// Zero-shot <c>classify</c> with a CLIP (<c>embed</c>) model: the image ranked against <c>labels</c> (comma-separated)
/// through <c>prompt_template</c>. Parameters <c>model</c> (default Embeddings:Model), <c>labels</c>, <c>prompt_template</c>.
/// </summary>
public sealed class ZeroShotClassifyTask(ModelRuntime models, ZeroShotClassifyTask.Defaults defaults)
    : ModelTask<ZeroShotClassifyTask.Parameters, ClipModel, ZeroShotResult>(models, "embed")
{
    /// <summary>Embeddings:Model.</summary>
    public sealed record Defaults(string Model);

    public sealed record Parameters(string Model, IReadOnlyList<string> Labels, string? PromptTemplate) : IModelParameters;

    public override string Name => "zero-shot-classify";

    public override Parameters Read(ParameterReader reader)
    {
        var labels = (reader.String("labels") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).ToList();
        if (labels.Count == 0)
            throw new InvalidParameterException("Zero-shot classification needs 'labels', a comma-separated list such as labels=cat,dog,flower.", "labels");
        if (labels.Count > ZeroShotClassifier.MaxLabels)
            throw new InvalidParameterException($"At most {ZeroShotClassifier.MaxLabels} labels are accepted; got {labels.Count}.", "labels");
        if (labels.FirstOrDefault(l => l.Length > ZeroShotClassifier.MaxLabelLength) is { } longLabel)
            throw new InvalidParameterException($"A label is at most {ZeroShotClassifier.MaxLabelLength} characters; one has {longLabel.Length}.", "labels");
        var template = reader.String("prompt_template");
        if (template?.Length > ZeroShotClassifier.MaxTemplateLength)
            throw new InvalidParameterException($"prompt_template is at most {ZeroShotClassifier.MaxTemplateLength} characters; got {template.Length}.", "prompt_template");
        if (template is not null && !template.Contains("{}"))
            throw new InvalidParameterException($"prompt_template must contain {{}} where the label goes, e.g. \"a photo of a {{}}\"; got '{template}'.", "prompt_template");
        return new Parameters(reader.String("model") ?? defaults.Model, labels, template);
    }

    public override DecodeNeed InputNeed(ClipModel model, Parameters parameters) => model.Processor?.InputNeed ?? DecodeNeed.FullResolution;

    public override Task<ZeroShotResult> RunAsync(ClipModel model, Parameters parameters, TaskInput input, CancellationToken cancellationToken) =>
        ZeroShotClassifier.ClassifyAsync(model, input.Image, parameters.Labels, parameters.PromptTemplate, cancellationToken);

    public override string? ModelOf(ZeroShotResult result) => result.Model;
}
