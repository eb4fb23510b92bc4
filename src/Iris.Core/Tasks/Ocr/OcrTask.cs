using Iris.Core.Inference;
using Iris.Core.Ocr;

namespace Iris.Core.Tasks.Ocr;

/// <summary><c>ocr</c>: text lines with polygons. Parameters <c>model</c>, <c>min_confidence</c> 0–1.</summary>
public sealed class OcrTask(ModelRuntime models, OcrTask.Defaults defaults)
    : ModelTask<OcrTask.Parameters, PpOcrReader, OcrResult>(models, "ocr")
{
    /// <summary>Ocr:Model, Ocr:MinConfidence.</summary>
    public sealed record Defaults(string Model, float MinConfidence);

    public sealed record Parameters(string Model, OcrParameters Ocr) : IModelParameters;

    public override string Name => "ocr";

    public Defaults Default => defaults;

    public override Parameters Read(ParameterReader reader) => new(
        reader.String("model") ?? defaults.Model,
        new OcrParameters(reader.Float("min_confidence", defaults.MinConfidence, 0f, 1f)));

    public override Task<OcrResult> RunAsync(PpOcrReader model, Parameters parameters, TaskInput input, CancellationToken cancellationToken) =>
        model.ReadAsync(input.Image, parameters.Ocr, cancellationToken);

    public override string? ModelOf(OcrResult result) => result.Model;
}
