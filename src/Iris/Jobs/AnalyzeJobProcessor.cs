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
        IReadOnlyList<IAnalysisTask> resolved;
        try
        {
            resolved = analyzer.Resolve(string.Join(',', tasks));
        }
        catch (UnknownAnalysisTaskException e)
        {
            throw new InvalidJobRequestException(e.Message, "tasks");
        }
        var normalized = Normalize(tasks, parameters);
        try
        {
            foreach (var task in resolved)
                task.Validate(AnalysisParameters.From(normalized));
        }
        catch (InvalidAnalysisParameterException e)
        {
            throw new InvalidJobRequestException(e.Message, e.Parameter);
        }
        // Models named for a task must exist now; loading them is the worker's business.
        foreach (var (name, value) in normalized)
            if (name.EndsWith("_model", StringComparison.Ordinal) && value is not null)
                models.Catalog.Get(value);
    }

    /// <summary>
    /// A job of one task may use that task's own parameter names (<c>min_confidence</c>, as on <c>/v1/detect</c>); they are
    /// read as the analyze names (<c>detect_min_confidence</c>). Prefixed names always work.
    /// </summary>
    private static Dictionary<string, string?> Normalize(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters)
    {
        var normalized = parameters.ToDictionary(p => p.Key, p => (string?)p.Value);
        if (tasks.Count != 1) return normalized;
        var prefix = tasks[0].ToLowerInvariant() + "_";
        foreach (var (name, value) in parameters)
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
                normalized.TryAdd(prefix + name, value);
        return normalized;
    }

    public async Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        AnalysisResult result;
        try
        {
            var tasks = analyzer.Resolve(string.Join(',', input.Tasks));
            var parameters = AnalysisParameters.From(Normalize(input.Tasks, input.Parameters));
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
