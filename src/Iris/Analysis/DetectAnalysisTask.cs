using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Analysis;
using Iris.Core.Detection;
using Iris.Core.Inference;

namespace Iris.Analysis;

/// <summary><c>detect</c> in analyze: the section is the document of <c>POST /v1/detect</c>. Parameters <c>detect_model</c>, <c>detect_min_confidence</c>, <c>detect_max_detections</c>.</summary>
public sealed class DetectAnalysisTask(ModelRuntime models, IrisOptions options) : IAnalysisTask
{
    public string Name => "detect";
    public bool UsesModel => true;

    public void Validate(AnalysisParameters parameters) => Parse(parameters);

    private DetectionParameters Parse(AnalysisParameters parameters) => new(
        parameters.Float("detect_min_confidence", options.Detection.MinConfidence, 0f, 1f),
        parameters.Int("detect_max_detections", options.Detection.MaxDetections, 1, 1000));

    public async Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken)
    {
        var detectParameters = Parse(parameters);
        var detector = await models.GetDetectorAsync(parameters.String("detect_model") ?? options.Detection.Model, cancellationToken);
        return async (input, ct) =>
        {
            var clock = Stopwatch.StartNew();
            var result = await detector.DetectAsync(input.Image, detectParameters, ct);
            return DetectionResponse.From(result, 0, clock.Elapsed.TotalMilliseconds);
        };
    }
}
