using Iris.Core.Jobs;

namespace Iris.Jobs;

/// <summary>
/// The job processor the workers see: a <c>transform</c> job goes to <see cref="TransformJobProcessor"/>, every other
/// task list to the analysis pipeline. A transform produces images rather than a section of an analysis document, so
/// it runs as a job of its own.
/// </summary>
public sealed class JobProcessorRouter(AnalyzeJobProcessor analyze, TransformJobProcessor transform) : IJobProcessor
{
    public IReadOnlyCollection<string> Tasks { get; } = [.. analyze.Tasks, .. transform.Tasks];

    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters) =>
        For(tasks).Validate(tasks, parameters);

    public Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken) =>
        For(input.Tasks).ProcessAsync(input, cancellationToken);

    private IJobProcessor For(IReadOnlyList<string> tasks)
    {
        if (!tasks.Contains(TransformJobProcessor.TaskName, StringComparer.OrdinalIgnoreCase)) return analyze;
        if (tasks.Count > 1)
            throw new InvalidJobRequestException(
                $"transform runs as a job of its own; submit {string.Join(",", tasks.Where(t => !t.Equals(TransformJobProcessor.TaskName, StringComparison.OrdinalIgnoreCase)))} as another job.", "tasks");
        return transform;
    }
}
