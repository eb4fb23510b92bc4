using Iris.Core.Inference;
using Iris.Core.Ocr;

namespace Iris.Core.Tasks.Ocr;

/// <summary><c>ocr</c>: text lines with polygons. Parameters <c>model</c>, <c>min_confidence</c> 0–1.</summary>
public sealed class OcrTask(ModelRuntime models, OcrTask.Defaults defaults) : ImageTask<OcrTask.Parameters, OcrResult>
{
    /// <summary>Ocr:Model, Ocr:MinConfidence.</summary>
    public sealed record Defaults(string Model, float MinConfidence);

    public sealed record Parameters(string Model, OcrParameters Ocr) : ITaskParameters;

    public override string Name => "ocr";

    public Defaults Default => defaults;

    public override Parameters Read(ParameterReader reader) => new(
        reader.String("model") ?? defaults.Model,
        new OcrParameters(reader.Float("min_confidence", defaults.MinConfidence, 0f, 1f)));

    public override async Task<Func<TaskInput, CancellationToken, Task<OcrResult>>> PrepareAsync(Parameters parameters, CancellationToken cancellationToken)
    {
        var reader = await models.GetOcrReaderAsync(parameters.Model, cancellationToken);
        return (input, ct) => reader.ReadAsync(input.Image, parameters.Ocr, ct);
    }

    public override string? ModelOf(OcrResult result) => result.Model;
}
