namespace Iris.Core.Predictions;

/// <summary>
/// One saved prediction, in the columns of the classifier service's <c>predictions</c> table (seed 004), so its
/// history reads the same after the move to Iris. <see cref="Owner"/> is Iris's own: the authenticated caller that
/// made it (null without auth), which is who may list it.
/// </summary>
/// <param name="ImagePath">Where the image is archived in the image store: <c>predictions/{user_uid}/{timestamp}_{uid}.{ext}</c>.</param>
public sealed record Prediction(
    Guid Uid, string ImagePath, int PredictedClass, string PredictedClassName, float Confidence, Guid UserUid, DateTimeOffset CreatedAt, string? Owner);

/// <summary>
/// A prediction owed to the history: written durably to the outbox before the answer goes out, with the image bytes,
/// and completed in the background (image archived, row inserted). Everything about it is decided when it is
/// recorded, the archive path included, so a retry after a crash writes the same object and the same row.
/// </summary>
public sealed record PendingPrediction(Prediction Prediction, byte[] Image)
{
    /// <summary>Attempts started, counting the one a claim is about to make.</summary>
    public int Attempts { get; init; }
}

/// <param name="UserUid">Only this user's predictions; null for all of the owner's.</param>
/// <param name="Owner">The caller; null (Iris without auth) sees every prediction.</param>
/// <param name="Cursor">The <see cref="PredictionPage.NextCursor"/> of the previous page.</param>
public sealed record PredictionQuery(Guid? UserUid, string? Owner, PredictionCursor? Cursor, int Limit);

/// <summary>Newest first; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record PredictionPage(IReadOnlyList<Prediction> Predictions, PredictionCursor? NextCursor);

/// <summary>The position after the last prediction of a page: its creation time and uid (the order's tie-breaker).</summary>
public sealed record PredictionCursor(DateTimeOffset CreatedAt, Guid Uid)
{
    public override string ToString() =>
        Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"{(CreatedAt - DateTimeOffset.UnixEpoch).Ticks / 10}_{Uid:N}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // A forged cursor may hold any long; only times DateTimeOffset can hold are cursors.
    private static readonly long MinMicros = (DateTimeOffset.MinValue - DateTimeOffset.UnixEpoch).Ticks / 10;
    private static readonly long MaxMicros = (DateTimeOffset.MaxValue - DateTimeOffset.UnixEpoch).Ticks / 10;

    /// <summary>The cursor a page's <see cref="ToString"/> gave, or null when <paramref name="text"/> is not one.</summary>
    public static PredictionCursor? Parse(string text)
    {
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            var decoded = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=')));
            var parts = decoded.Split('_');
            return parts.Length == 2 && long.TryParse(parts[0], out var micros) && Guid.TryParseExact(parts[1], "N", out var uid)
                    && micros >= MinMicros && micros <= MaxMicros
                ? new PredictionCursor(DateTimeOffset.UnixEpoch.AddTicks(micros * 10), uid)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
