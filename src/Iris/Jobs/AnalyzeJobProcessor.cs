using System.Diagnostics;
using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Jobs;
using Iris.Core.Models;
using Iris.Core.Tasks;

namespace Iris.Jobs;

/// <summary>
/// Runs a job's tasks through the same <see cref="ImageAnalyzer"/> as <c>POST /v1/analyze</c>, so a job's result document is
/// exactly what that route would have answered for the same image, tasks and parameters.
/// </summary>
public sealed class AnalyzeJobProcessor(ImageAnalyzer analyzer, ModelCatalog catalog) : IJobProcessor
{
    private static readonly JsonSerializerOptions Json = new(DetectionResponse.Json) { WriteIndented = false };

    public IReadOnlyCollection<string> Tasks => analyzer.TaskNames;

    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters)
    {
        var normalized = Normalize(tasks, parameters);
        analyzer.ReadParameters(analyzer.Resolve(TaskList.Of(tasks)), ParameterReader.From(normalized));
        // Models named for a task must exist now; loading them is the worker's business.
        foreach (var (name, value) in normalized)
            if (name.EndsWith("_model", StringComparison.Ordinal) && value is not null)
                catalog.Get(value);
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
        var tasks = analyzer.Resolve(TaskList.Of(input.Tasks));
        var result = await analyzer.AnalyzeAsync(input.Image, tasks, ParameterReader.From(Normalize(input.Tasks, input.Parameters)), cancellationToken);
        var document = JsonSerializer.Serialize(AnalyzeResponse.From(result, clock.Elapsed.TotalMilliseconds), Json);
        return new JobOutput(document, GeneratedBy(result));
    }

    // Every model task's result names its model; the catalog gives its version.
    private List<ModelVersion> GeneratedBy(AnalysisResult result)
    {
        var versions = new List<ModelVersion>(result.Tasks.Count);
        foreach (var outcome in result.Tasks)
        {
            if (outcome.Model is not { } name || !catalog.Contains(name) || versions.Exists(v => v.Name == name)) continue;
            var manifest = catalog.Get(name);
            versions.Add(new ModelVersion(manifest.Name, manifest.Version));
        }
        return versions;
    }
}
