using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Analysis;
using Iris.Core.Inference;
using Iris.Core.Ocr;

namespace Iris.Analysis;

/// <summary><c>ocr</c> in analyze: the section is the document of <c>POST /v1/ocr</c>. Parameters <c>ocr_model</c>, <c>ocr_min_confidence</c>.</summary>
public sealed class OcrAnalysisTask(ModelRuntime models, IrisOptions options) : IAnalysisTask
{
    public string Name => "ocr";
    public bool UsesModel => true;

    public void Validate(AnalysisParameters parameters) => Parse(parameters);

    private OcrParameters Parse(AnalysisParameters parameters) =>
        new(parameters.Float("ocr_min_confidence", options.Ocr.MinConfidence, 0f, 1f));

    public async Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken)
    {
        var ocrParameters = Parse(parameters);
        var reader = await models.GetOcrReaderAsync(parameters.String("ocr_model") ?? options.Ocr.Model, cancellationToken);
        return async (input, ct) =>
        {
            var clock = Stopwatch.StartNew();
            var result = await reader.ReadAsync(input.Image, ocrParameters, ct);
            return OcrResponse.From(result, 0, clock.Elapsed.TotalMilliseconds);
        };
    }
}
