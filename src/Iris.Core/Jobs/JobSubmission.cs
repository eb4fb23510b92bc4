namespace Iris.Core.Jobs;

/// <summary>One submitted input image.</summary>
public sealed record JobInputImage(ReadOnlyMemory<byte> Bytes, string? FileName);

/// <summary>A request to run <see cref="Tasks"/> on each image: one job per image, one batch when there are several.</summary>
public sealed record JobSubmission(
    IReadOnlyList<JobInputImage> Images,
    IReadOnlyList<string> Tasks,
    IReadOnlyDictionary<string, string> Parameters,
    string? IdempotencyKey = null,
    string? CallbackUrl = null,
    string? Owner = null)
{
    /// <summary>
    /// The most characters of parameter names, values and callback URL together. Every job of a batch stores its own
    /// copy and every status answer repeats them, so a form of 1,000 files and 26 fields of 1 MB must not become 26 GB.
    /// </summary>
    public const int MaxParameterCharacters = 65_536;
}

/// <summary>The jobs a submission created, or found when its idempotency key had been seen before.</summary>
public sealed record JobSubmissionResult(IReadOnlyList<Job> Jobs, bool Replayed)
{
    public string? BatchId => Jobs.Count > 1 ? Jobs[0].BatchId : null;
}
