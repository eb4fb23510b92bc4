using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Analysis;
using Iris.Core.Faces;
using Iris.Core.Inference;

namespace Iris.Analysis;

/// <summary><c>faces</c> in analyze: the section is the document of <c>POST /v1/faces</c>. Parameters <c>faces_model</c>, <c>faces_min_confidence</c>, <c>faces_max_faces</c>.</summary>
public sealed class FacesAnalysisTask(ModelRuntime models, IrisOptions options) : IAnalysisTask
{
    public string Name => "faces";
    public bool UsesModel => true;

    public void Validate(AnalysisParameters parameters) => Parse(parameters);

    private FaceDetectionParameters Parse(AnalysisParameters parameters) => new(
        parameters.Float("faces_min_confidence", options.Faces.MinConfidence, 0f, 1f),
        parameters.Int("faces_max_faces", options.Faces.MaxFaces, 1, 1000));

    public async Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken)
    {
        var faceParameters = Parse(parameters);
        var detector = await models.GetFaceDetectorAsync(parameters.String("faces_model") ?? options.Faces.Model, cancellationToken);
        return async (input, ct) =>
        {
            var clock = Stopwatch.StartNew();
            var result = await detector.DetectAsync(input.Image, faceParameters, ct);
            return FacesResponse.From(result, 0, clock.Elapsed.TotalMilliseconds);
        };
    }
}
