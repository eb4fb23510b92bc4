using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Analysis;
using Iris.Core.Inspection;

namespace Iris.Analysis;

/// <summary><c>info</c> in analyze: the section is the document of <c>POST /v1/info</c>. Parameter <c>include_gps</c>.</summary>
public sealed class InfoAnalysisTask(ImageInspector inspector) : IAnalysisTask
{
    public string Name => "info";
    public bool UsesModel => false;

    public void Validate(AnalysisParameters parameters) => Parse(parameters);

    private static InspectionParameters Parse(AnalysisParameters parameters) => new(parameters.Bool("include_gps", false));

    public Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken)
    {
        var inspection = Parse(parameters);
        PreparedAnalysis run = (input, _) =>
        {
            var clock = Stopwatch.StartNew();
            var header = inspector.ReadHeader(input.Source);
            var info = inspector.Inspect(header, input.Image, inspection, clock.Elapsed.TotalMilliseconds);
            return Task.FromResult<object>(InfoResponse.From(info, 0, clock.Elapsed.TotalMilliseconds));
        };
        return Task.FromResult(run);
    }
}
