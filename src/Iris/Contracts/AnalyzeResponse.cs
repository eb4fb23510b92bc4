using System.Text.Json.Serialization;
using Iris.Core.Analysis;

namespace Iris.Contracts;

/// <summary>
/// The JSON document of <c>POST /v1/analyze</c> and <c>iris analyze --json</c>: the image's size and format, the tasks run,
/// one section per task under the task's name (the same document as the task's own route), and the timings.
/// </summary>
public sealed record AnalyzeResponse(int Width, int Height, string Format, IReadOnlyList<string> Tasks, IReadOnlyDictionary<string, double> TimingsMs)
{
    [JsonExtensionData]
    public Dictionary<string, object> Sections { get; init; } = [];

    public static AnalyzeResponse From(AnalysisResult result, double totalMs)
    {
        var timings = new Dictionary<string, double> { ["prepare"] = Ms(result.PrepareMs), ["decode"] = Ms(result.DecodeMs) };
        foreach (var (task, ms) in result.TaskMs) timings[task] = Ms(ms);
        timings["total"] = Ms(totalMs);
        return new AnalyzeResponse(result.Width, result.Height, result.Format, result.Tasks, timings)
        {
            Sections = result.Sections.ToDictionary(p => p.Key, p => p.Value),
        };
    }

    private static double Ms(double v) => Math.Round(v, 2);
}
