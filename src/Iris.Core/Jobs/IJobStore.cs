namespace Iris.Core.Jobs;

/// <summary>
/// The authoritative record of every job and its lifecycle. Every state change is a conditional update, so concurrent
/// or redelivered workers cannot both win: only the worker that holds a job can complete it, and a job completes once.
/// The same database also holds the webhook outbox (<see cref="IWebhookOutbox"/>) and is swept by retention
/// (<see cref="IJobRetentionStore"/>); those are separate interfaces because separate components use them.
/// </summary>
public interface IJobStore : IAsyncDisposable
{
    /// <summary>Creates the schema or migrates it to the current version.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Inserts the jobs in one transaction. When a job's idempotency key (per owner) already exists, nothing is
    /// inserted and the jobs stored under those keys are returned instead, with <c>Created</c> false.
    /// </summary>
    Task<(IReadOnlyList<Job> Jobs, bool Created)> CreateAsync(IReadOnlyList<Job> jobs, CancellationToken cancellationToken);

    Task<Job?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>The job submitted with <paramref name="key"/> by <paramref name="owner"/>, if any.</summary>
    Task<Job?> FindByIdempotencyKeyAsync(string? owner, string key, CancellationToken cancellationToken);

    Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken);

    Task<long> CountAsync(JobStatus status, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the job for <paramref name="worker"/>: a queued job, or a processing one whose holder's heartbeat is
    /// older than <paramref name="staleAfter"/> (that worker died). The attempt is counted durably by the claim itself,
    /// before the job runs, so a job that kills its worker still uses up its attempts. A claim that finds all
    /// <paramref name="maxAttempts"/> used (their workers died without reporting) dead-letters the job instead: it is
    /// returned <see cref="JobStatus.Failed"/> with the reason <see cref="WorkerDiedError"/>, and must not run.
    /// Null when the job is finished, canceled, unknown or held by a live worker.
    /// </summary>
    Task<Job?> TryStartAsync(string id, string worker, TimeSpan staleAfter, int maxAttempts, CancellationToken cancellationToken);

    /// <summary>The start of the error of a job dead-lettered by <see cref="TryStartAsync"/>.</summary>
    public const string WorkerDiedError = "worker died while processing";

    /// <summary>Proves <paramref name="worker"/> still works on the job; false when it lost the job.</summary>
    Task<bool> HeartbeatAsync(string id, string worker, CancellationToken cancellationToken);

    /// <summary>Stores the result, only if <paramref name="worker"/> still holds the job. False: someone else finished it.</summary>
    Task<bool> CompleteAsync(string id, string worker, string result, IReadOnlyList<ModelVersion> generatedBy, CancellationToken cancellationToken);

    /// <summary>Marks the job failed with its last error, only if <paramref name="worker"/> holds it.</summary>
    Task<bool> FailAsync(string id, string worker, string error, CancellationToken cancellationToken);

    /// <summary>Puts the job back to queued (a retry will follow), keeping the error; <paramref name="countAttempt"/> false gives the attempt back (graceful shutdown).</summary>
    Task<bool> RequeueAsync(string id, string worker, string? error, bool countAttempt, CancellationToken cancellationToken);

    /// <summary>
    /// Jobs the queue may have lost: queued and untouched since <paramref name="before"/>, or processing with a
    /// heartbeat older than it. Oldest first.
    /// </summary>
    Task<IReadOnlyList<Job>> ListStaleAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);

    /// <summary>Marks a queued job as just (re-)enqueued, so the next recovery sweep leaves it alone.</summary>
    Task<bool> TouchAsync(string id, CancellationToken cancellationToken);

    /// <summary>Queued → canceled. False when the job is not queued.</summary>
    Task<bool> CancelAsync(string id, CancellationToken cancellationToken);

    /// <summary>Failed or canceled → queued with attempts reset, for a manual retry. False otherwise.</summary>
    Task<bool> ResubmitAsync(string id, CancellationToken cancellationToken);
}
