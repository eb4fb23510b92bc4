using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Iris.Contracts;
using Iris.Core.Analysis;
using Iris.Core.Inference;
using Iris.Core.Jobs;
using Iris.Core.Models;

namespace Iris.Jobs;

/// <summary>
/// Runs a job's tasks through the same <see cref="ImageAnalyzer"/> as <c>POST /v1/analyze</c>, so a job's result document is
/// exactly what that route would have answered for the same image, tasks and parameters.
/// </summary>
public sealed class AnalyzeJobProcessor(ImageAnalyzer analyzer, ModelRuntime models) : IJobProcessor
{
    private static readonly JsonSerializerOptions Json = new(DetectionResponse.Json) { WriteIndented = false };

    public IReadOnlyCollection<string> Tasks => analyzer.TaskNames;

    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters)
    {
        try
        {
            analyzer.Resolve(string.Join(',', tasks));
        }
        catch (UnknownAnalysisTaskException e)
        {
            throw new InvalidJobRequestException(e.Message, "tasks");
        }
        // Models named for a task must exist now; loading them is the worker's business.
        foreach (var (name, value) in parameters)
            if (name.EndsWith("_model", StringComparison.Ordinal) || name == "model")
                models.Catalog.Get(value);
    }

    public async Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        AnalysisResult result;
        try
        {
            var tasks = analyzer.Resolve(string.Join(',', input.Tasks));
            var parameters = AnalysisParameters.From(input.Parameters.ToDictionary(p => p.Key, p => (string?)p.Value));
            result = await analyzer.AnalyzeAsync(input.Image, tasks, parameters, cancellationToken);
        }
        catch (InvalidAnalysisParameterException e)
        {
            throw new PermanentJobFailureException(e.Message, e);
        }
        var document = JsonSerializer.SerializeToNode(AnalyzeResponse.From(result, clock.Elapsed.TotalMilliseconds), Json)!.AsObject();
        return new JobOutput(document.ToJsonString(), GeneratedBy(document, result.Tasks));
    }

    // Every model section names its model; the catalog gives its version.
    private List<ModelVersion> GeneratedBy(JsonObject document, IReadOnlyList<string> tasks) =>
        tasks.Select(t => document[t] is JsonObject section && section["model"] is JsonValue model ? model.GetValue<string>() : null)
            .OfType<string>()
            .Where(models.Catalog.Contains)
            .Distinct()
            .Select(name => models.Catalog.Get(name))
            .Select(m => new ModelVersion(m.Name, m.Version))
            .ToList();
}
