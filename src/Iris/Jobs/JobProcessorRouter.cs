using Iris.Core.Jobs;

namespace Iris.Jobs;

/// <summary>
/// The job processor the workers see: a <c>transform</c> job goes to <see cref="TransformJobProcessor"/>, a
/// <c>library_index</c> job to <see cref="IndexJobProcessor"/>, every other task list to the analysis pipeline. A
/// transform produces images and an index job writes the library, rather than a section of an analysis document, so
/// each runs as a job of its own.
/// </summary>
public sealed class JobProcessorRouter(AnalyzeJobProcessor analyze, TransformJobProcessor transform, IndexJobProcessor index) : IJobProcessor
{
    /// <summary>
    /// The tasks a client may submit. <c>library_index</c> is not one of them: the library queues it (POST /v1/images),
    /// and routing it below does not depend on this list.
    /// </summary>
    public IReadOnlyCollection<string> Tasks { get; } = [.. analyze.Tasks, .. transform.Tasks];

    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters) =>
        For(tasks).Validate(tasks, parameters);

    public Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken) =>
        For(input.Tasks).ProcessAsync(input, cancellationToken);

    private IJobProcessor For(IReadOnlyList<string> tasks)
    {
        foreach (var own in new IJobProcessor[] { transform, index })
        {
            var name = own.Tasks.First();
            if (!tasks.Contains(name, StringComparer.OrdinalIgnoreCase)) continue;
            if (tasks.Count > 1)
                throw new InvalidJobRequestException(
                    $"{name} runs as a job of its own; submit {string.Join(",", tasks.Where(t => !t.Equals(name, StringComparison.OrdinalIgnoreCase)))} as another job.", "tasks");
            return own;
        }
        return analyze;
    }
}
