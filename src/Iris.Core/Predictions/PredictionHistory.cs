using Iris.Core.Classification;
using Iris.Core.Imaging;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Predictions;

/// <summary>
/// Saved predictions: <see cref="SaveAsync"/> records one durably in the outbox before the caller answers, and
/// <see cref="RunArchiverAsync"/> completes it in the background (image archived, history row inserted), in this
/// process at once or, after a crash, in whichever process claims it next. Completing is idempotent (same archive
/// path, row inserted once), so a retry after a crash between the two steps leaves one row and one image.
/// </summary>
public sealed class PredictionHistory(
    IPredictionStore store, IPredictionArchive archive, TimeSpan pollInterval, ILogger<PredictionHistory> logger, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    /// <summary>
    /// Longer than archiving one image normally takes; a process killed mid-way leaves its claim to expire after this.
    /// A slower archive (S3 retrying) may be completed twice, which is harmless: same path, one row.
    /// </summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(60);

    /// <summary>The longest wait between two attempts at a prediction whose archive keeps failing.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(5);

    private const int Batch = 16;

    /// <summary>
    /// Records <paramref name="top"/> as <paramref name="userUid"/>'s prediction on <paramref name="image"/> (a JPEG or
    /// PNG), owned by <paramref name="owner"/>. Durable when this returns; archived and listed shortly after.
    /// </summary>
    public async Task<Prediction> SaveAsync(ClassPrediction top, byte[] image, Guid userUid, string? owner, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        // Microseconds: what both databases keep, so a listed prediction and a cursor compare exactly.
        var createdAt = new DateTimeOffset(now.UtcTicks - now.UtcTicks % 10, TimeSpan.Zero);
        var uid = Guid.CreateVersion7(createdAt);
        var extension = PredictionImages.Extension(image) ?? throw new ArgumentException("Only JPEG and PNG images are archived.", nameof(image));
        var prediction = new Prediction(uid, PredictionPaths.For(userUid, createdAt, uid, extension), top.ClassIndex, top.Label, top.Confidence,
            userUid, createdAt, owner);
        await store.RecordAsync(new PendingPrediction(prediction, image), cancellationToken);
        // One wake-up is enough (the archiver claims everything due); an API-only node has no archiver to take them.
        if (_signal.CurrentCount == 0) _signal.Release();
        return prediction;
    }

    public Task<PredictionPage> ListAsync(PredictionQuery query, CancellationToken cancellationToken) => store.ListAsync(query, cancellationToken);

    public async Task RunArchiverAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await CompleteDueAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Saving predictions failed: {Error}", e.Message);
            }
            if (claimed == Batch) continue;
            try
            {
                await _signal.WaitAsync(pollInterval, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Claims the predictions that are due and completes each; returns how many it claimed.</summary>
    public async Task<int> CompleteDueAsync(CancellationToken cancellationToken)
    {
        var due = await store.ClaimAsync(ClaimLease, Batch, cancellationToken);
        foreach (var pending in due)
            await CompleteAsync(pending, cancellationToken);
        return due.Count;
    }

    private async Task CompleteAsync(PendingPrediction pending, CancellationToken cancellationToken)
    {
        var prediction = pending.Prediction;
        try
        {
            await archive.PutAsync(prediction.ImagePath, pending.Image, cancellationToken);
            await store.CompleteAsync(prediction, cancellationToken);
            logger.LogInformation("Prediction {Uid} of user {UserUid} saved, image at {ImagePath}", prediction.Uid, prediction.UserUid, prediction.ImagePath);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: hand it back now rather than when the claim runs out.
            await store.PostponeAsync(prediction.Uid, _clock.GetUtcNow(), "interrupted by shutdown", CancellationToken.None);
            throw;
        }
        catch (Exception e)
        {
            // Never given up: the caller was told nothing of this, and the row is owed to it. The error is logged and kept.
            var delay = TimeSpan.FromSeconds(Math.Min(MaxRetryDelay.TotalSeconds, Math.Pow(2, Math.Min(pending.Attempts, 20) - 1)));
            logger.LogWarning("Saving prediction {Uid} failed (attempt {Attempt}), retrying in {Delay:0} s: {Error}",
                prediction.Uid, pending.Attempts, delay.TotalSeconds, e.Message);
            await store.PostponeAsync(prediction.Uid, _clock.GetUtcNow() + delay, e.Message, CancellationToken.None);
        }
    }
}

/// <summary>The image formats the classifier service accepted (JPEG, PNG), recognised by their content.</summary>
public static class PredictionImages
{
    /// <summary><c>jpg</c> or <c>png</c>; null for anything else.</summary>
    public static string? Extension(ReadOnlySpan<byte> image) => ImageFormatSniffer.Sniff(image) switch
    {
        ImageFormat.Jpeg => "jpg",
        ImageFormat.Png => "png",
        _ => null,
    };
}
