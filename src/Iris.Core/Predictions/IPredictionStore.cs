namespace Iris.Core.Predictions;

/// <summary>
/// The prediction history and its outbox, in the job database. <see cref="RecordAsync"/> is the only write on the
/// request path: once it returns, the prediction survives a crash. <see cref="PredictionArchiver"/> completes it.
/// </summary>
public interface IPredictionStore
{
    /// <summary>Creates the tables when missing (an existing <c>predictions</c> table of the old service is kept and used).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Writes the prediction and its image to the outbox, committed when this returns.</summary>
    Task RecordAsync(PendingPrediction pending, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="limit"/> pending predictions that are due: counts an attempt and moves their due
    /// time <paramref name="lease"/> ahead in one conditional update, so two archivers never complete one at once and
    /// one that dies mid-way leaves it to be claimed again when the lease runs out.
    /// </summary>
    Task<IReadOnlyList<PendingPrediction>> ClaimAsync(TimeSpan lease, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts the history row and removes the outbox entry in one transaction. A row already there (a retry after a
    /// crash between the two) is kept, so completing twice changes nothing.
    /// </summary>
    Task CompleteAsync(Prediction prediction, CancellationToken cancellationToken);

    /// <summary>Leaves the entry pending until <paramref name="retryAt"/>, with the error for the operator.</summary>
    Task PostponeAsync(Guid uid, DateTimeOffset retryAt, string error, CancellationToken cancellationToken);

    /// <summary>Saved predictions, newest first.</summary>
    Task<PredictionPage> ListAsync(PredictionQuery query, CancellationToken cancellationToken);

    /// <summary>Entries still waiting to be completed; for tests and diagnostics.</summary>
    Task<long> CountPendingAsync(CancellationToken cancellationToken);
}
