using Iris.Core.Tasks;
using Iris.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Jobs;

/// <summary>
/// The operations a client performs on jobs: submit (validate, apply backpressure, store the input, record the
/// job, then enqueue it), cancel, retry. A job is recorded before it is enqueued, so whatever the queue delivers
/// exists in the store; a 202 is only answered once both are durable.
/// </summary>
public sealed class JobService(IJobStore store, IJobQueue queue, IJobBlobStore blobs, IJobProcessor processor, JobSettings settings, ILogger<JobService>? logger = null, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public IReadOnlyCollection<string> Tasks => processor.Tasks;

    /// <summary>Parses a <c>tasks</c> parameter ("detect,ocr") once and checks every name against the processor's tasks.</summary>
    public TaskList ParseTasks(string? raw, string fallback)
    {
        var tasks = TaskList.Parse(string.IsNullOrWhiteSpace(raw) ? fallback : raw);
        if (tasks.Count == 0)
            throw new InvalidParameterException($"tasks must name at least one task; valid tasks: {string.Join(", ", processor.Tasks.Order())}.", "tasks");
        var unknown = tasks.Where(t => !processor.Tasks.Contains(t, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
            throw new InvalidParameterException(
                $"Unknown task{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; valid tasks: {string.Join(", ", processor.Tasks.Order())}.", "tasks");
        return tasks;
    }

    public async Task<JobSubmissionResult> SubmitAsync(JobSubmission submission, CancellationToken cancellationToken)
    {
        if (submission.Images.Count == 0)
            throw new InvalidJobRequestException("A job needs at least one image.", "image");
        var parameterCharacters = submission.Parameters.Sum(p => p.Key.Length + p.Value.Length) + (submission.CallbackUrl?.Length ?? 0);
        if (parameterCharacters > JobSubmission.MaxParameterCharacters)
            throw new InvalidJobRequestException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The job's parameters and callback_url come to {parameterCharacters:N0} characters; at most {JobSubmission.MaxParameterCharacters:N0} are stored per job."),
                submission.Parameters.OrderByDescending(p => p.Value.Length).Select(p => p.Key).FirstOrDefault() ?? "callback_url");
        processor.Validate(submission.Tasks, submission.Parameters);

        // A replayed submission must return the original jobs even when the queue is full now.
        if (submission.IdempotencyKey is not null)
        {
            var seen = await FindReplayAsync(submission, cancellationToken);
            if (seen is not null)
            {
                // The first submission may have died between recording its jobs and enqueuing them. Enqueuing a
                // still-queued job again is harmless (the store lets one delivery run it), so make sure it runs.
                foreach (var job in seen.Jobs.Where(j => j.Status == JobStatus.Queued))
                    await queue.EnqueueAsync(job.Id, TimeSpan.Zero, cancellationToken);
                return seen;
            }
        }

        var queued = await store.CountAsync(JobStatus.Queued, cancellationToken);
        if (queued + submission.Images.Count > settings.MaxQueued)
            throw new JobQueueFullException(queued, settings.MaxQueued, settings.RetryAfter);

        var now = _clock.GetUtcNow();
        var batchId = submission.Images.Count > 1 ? Job.NewId(_clock) : null;
        var jobs = new List<Job>();
        try
        {
            for (var i = 0; i < submission.Images.Count; i++)
            {
                var image = submission.Images[i];
                jobs.Add(new Job
                {
                    Id = Job.NewId(_clock),
                    Tasks = submission.Tasks,
                    Parameters = submission.Parameters,
                    InputRef = await blobs.PutAsync(image.Bytes, cancellationToken),
                    InputName = image.FileName,
                    BatchId = batchId,
                    CreatedAt = now,
                    UpdatedAt = now,
                    Owner = submission.Owner,
                    IdempotencyKey = IdempotencyKeyOf(submission.IdempotencyKey, i, submission.Images.Count),
                    CallbackUrl = submission.CallbackUrl,
                });
            }
        }
        catch
        {
            // An input that failed to store (a full disk, the client gone) leaves the ones before it with no job: delete
            // them. Not so when CreateAsync fails below: it may have committed before its error, and then the inputs are
            // its jobs'; a leaked file is better than a job without its input.
            foreach (var job in jobs)
            {
                // Best effort: the store's failure is the error to report, and a file left behind is only space.
                try { await blobs.DeleteAsync(job.InputRef, CancellationToken.None); }
                catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException or Storage.StorageUnavailableException) { }
            }
            throw;
        }

        var (stored, created) = await store.CreateAsync(jobs, cancellationToken);
        if (!created)
        {
            // Lost a race with an identical submission: drop our copies of the inputs.
            foreach (var job in jobs) await blobs.DeleteAsync(job.InputRef, cancellationToken);
            return new JobSubmissionResult(stored, Replayed: true);
        }
        foreach (var job in stored)
            await queue.EnqueueAsync(job.Id, TimeSpan.Zero, cancellationToken);
        logger?.LogInformation("Queued {Count} job(s) {Ids} for {Tasks}", stored.Count, string.Join(",", stored.Select(j => j.Id)), string.Join(",", submission.Tasks));
        IrisMetrics.JobsSubmitted.Add(stored.Count);
        return new JobSubmissionResult(stored, Replayed: false);
    }

    private async Task<JobSubmissionResult?> FindReplayAsync(JobSubmission submission, CancellationToken cancellationToken)
    {
        var found = await store.FindByIdempotencyKeyAsync(submission.Owner, IdempotencyKeyOf(submission.IdempotencyKey!, 0, submission.Images.Count)!, cancellationToken);
        if (found is null) return null;
        var all = found.BatchId is null ? [found] : (await store.ListAsync(new JobQuery(BatchId: found.BatchId, Limit: 10_000), cancellationToken)).Jobs.OrderBy(j => j.Id, StringComparer.Ordinal).ToList();
        return new JobSubmissionResult(all, Replayed: true);
    }

    private static string? IdempotencyKeyOf(string? key, int index, int count) =>
        key is null ? null : count == 1 ? key : $"{key}#{index}";

    /// <summary>One page of jobs; <see cref="JobQuery.Owner"/> limits it to that caller's.</summary>
    public Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken) => store.ListAsync(query, cancellationToken);

    public async Task<Job> GetAsync(string id, CancellationToken cancellationToken) =>
        await store.GetAsync(Job.IdOf(id), cancellationToken) ?? throw new JobNotFoundException(id);

    /// <summary>
    /// The job as <paramref name="owner"/> sees it: with auth on, another caller's job is "not found", so its
    /// existence is not revealed. A null owner (Iris without auth) sees every job.
    /// </summary>
    public async Task<Job> GetAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        var job = await GetAsync(id, cancellationToken);
        return owner is null || job.Owner == owner ? job : throw new JobNotFoundException(id);
    }

    /// <summary>Cancels a queued job. Canceling a canceled job is a no-op; a running or finished one is a conflict.</summary>
    public async Task<Job> CancelAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        id = Job.IdOf(id);
        await GetAsync(id, owner, cancellationToken);
        if (await store.CancelAsync(id, cancellationToken))
            IrisMetrics.JobsFinished.Add(1, new KeyValuePair<string, object?>("status", "canceled"));
        else
        {
            var job = await GetAsync(id, cancellationToken);
            if (job.Status != JobStatus.Canceled)
                throw new JobStateConflictException($"Job '{id}' is {job.Status.ToString().ToLowerInvariant()}; only a queued job can be canceled.");
        }
        return await GetAsync(id, cancellationToken);
    }

    /// <summary>Re-submits a failed or canceled job (its input is still stored) with a fresh set of attempts.</summary>
    public async Task<Job> RetryAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        id = Job.IdOf(id);
        await GetAsync(id, owner, cancellationToken);
        var queued = await store.CountAsync(JobStatus.Queued, cancellationToken);
        if (queued >= settings.MaxQueued)
            throw new JobQueueFullException(queued, settings.MaxQueued, settings.RetryAfter);
        if (!await store.ResubmitAsync(id, cancellationToken))
        {
            var job = await GetAsync(id, cancellationToken);
            throw new JobStateConflictException($"Job '{id}' is {job.Status.ToString().ToLowerInvariant()}; only a failed or canceled job can be retried.");
        }
        await queue.EnqueueAsync(id, TimeSpan.Zero, cancellationToken);
        return await GetAsync(id, cancellationToken);
    }
}
