using System.Text.Json.Serialization;
using Iris.Core.Tasks;

namespace Iris.Contracts;

/// <summary>
/// The JSON document of <c>POST /v1/analyze</c>, <c>iris analyze</c> and an analysis job's result: the image's size and
/// format, the tasks run, one section per task under the task's name (the same document as the task's own route), and the timings.
/// </summary>
public sealed record AnalyzeResponse(int Width, int Height, string Format, IReadOnlyList<string> Tasks, IReadOnlyDictionary<string, double> TimingsMs)
{
    [JsonExtensionData]
    public Dictionary<string, object> Sections { get; init; } = [];

    public static AnalyzeResponse From(AnalysisResult result, double totalMs)
    {
        var timings = new Dictionary<string, double>(result.Tasks.Count + 3) { ["prepare"] = Ms(result.PrepareMs), ["decode"] = Ms(result.DecodeMs) };
        var tasks = new string[result.Tasks.Count];
        var sections = new Dictionary<string, object>(result.Tasks.Count);
        for (var i = 0; i < tasks.Length; i++)
        {
            var outcome = result.Tasks[i];
            tasks[i] = outcome.Name;
            timings[outcome.Name] = Ms(outcome.Ms);
            sections[outcome.Name] = TaskSections.ToSection(outcome);
        }
        timings["total"] = Ms(totalMs);
        return new AnalyzeResponse(result.Width, result.Height, result.Format, tasks, timings) { Sections = sections };
    }

    private static double Ms(double v) => Math.Round(v, 2);
}
