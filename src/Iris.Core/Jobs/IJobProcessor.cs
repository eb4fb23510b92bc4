namespace Iris.Core.Jobs;

/// <summary>What a worker hands the processor: the stored input image and the job's request.</summary>
/// <param name="Owner">Who submitted the job (null without access control): what it stores is theirs.</param>
public sealed record JobInput(byte[] Image, IReadOnlyList<string> Tasks, IReadOnlyDictionary<string, string> Parameters, string? Owner = null);

/// <summary>The result document (JSON) and the models that produced it.</summary>
public sealed record JobOutput(string Result, IReadOnlyList<ModelVersion> GeneratedBy);

/// <summary>
/// Runs a job's tasks on its image. The one seam between the job machinery and the analysis pipeline: register
/// another implementation (e.g. the /v1/analyze runner) and every queue, worker and route uses it.
/// </summary>
public interface IJobProcessor
{
    /// <summary>The task names this processor can run.</summary>
    IReadOnlyCollection<string> Tasks { get; }

    /// <summary>
    /// Checks a submission before it is accepted, so a job that can never run is refused with 400 rather than
    /// failing later. Throws <see cref="Tasks.InvalidParameterException"/> for a bad parameter. Task names are already checked.
    /// </summary>
    void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters);

    /// <summary>
    /// Runs the tasks. Throw <see cref="PermanentJobFailureException"/> (or an image rejection) for input that can
    /// never succeed; any other exception is retried with backoff.
    /// </summary>
    Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken);
}
