using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Analysis;
using Iris.Core.Classification;
using Iris.Core.Inference;

namespace Iris.Analysis;

/// <summary><c>classify</c> in analyze: the section is the document of <c>POST /v1/classify</c>. Parameters <c>classify_model</c>, <c>classify_top_k</c>, <c>classify_min_confidence</c>.</summary>
public sealed class ClassifyAnalysisTask(ModelRuntime models, IrisOptions options) : IAnalysisTask
{
    public string Name => "classify";
    public bool UsesModel => true;

    public void Validate(AnalysisParameters parameters) => Parse(parameters);

    private ClassificationParameters Parse(AnalysisParameters parameters) => new(
        parameters.Int("classify_top_k", options.Classification.TopK, 1, 1000),
        parameters.Float("classify_min_confidence", options.Classification.MinConfidence, 0f, 1f));

    public async Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken)
    {
        var classifyParameters = Parse(parameters);
        var classifier = await models.GetClassifierAsync(parameters.String("classify_model") ?? options.Classification.Model, cancellationToken);
        return async (input, ct) =>
        {
            var clock = Stopwatch.StartNew();
            var result = await classifier.ClassifyAsync(input.Image, classifyParameters, ct);
            return ClassificationResponse.From(result, 0, clock.Elapsed.TotalMilliseconds);
        };
    }
}
