using System.Security.Claims;
using Iris.Contracts;
using Iris.Core.Predictions;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>The saved predictions of the classifier route (<c>save_prediction=true</c>), the caller's own only.</summary>
public static class PredictionsApi
{
    public static IEndpointRouteBuilder MapPredictionsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/predictions", ListAsync)
            .WithName("ListPredictions")
            .WithTags("Understand")
            .WithSummary("List saved predictions, newest first")
            .WithDescription(
                "The predictions saved by POST /api/v1/inference/predict with `save_prediction=true`, in the columns of the classifier " +
                "service's `predictions` table. With auth on, a caller sees only its own. Filter: `user_uid`. `limit` 1–1000 (default 50); " +
                "pass the answer's `next_cursor` as `cursor` for the next page. A prediction is listed once its image is archived, " +
                "normally within a second of the answer.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<Ok<PredictionListResponse>> ListAsync(
        PredictionHistory history, ClaimsPrincipal user, string? user_uid, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        Guid? userUid = null;
        if (!string.IsNullOrEmpty(user_uid))
            userUid = Guid.TryParse(user_uid, out var parsed)
                ? parsed
                : throw new InvalidRequestException($"user_uid must be a UUID; got '{user_uid}'.", "user_uid");
        PredictionCursor? after = null;
        if (!string.IsNullOrEmpty(cursor))
            after = PredictionCursor.Parse(cursor) ?? throw new InvalidRequestException("cursor is not a next_cursor this server gave.", "cursor");
        if (limit is < 1 or > 1000)
            throw new InvalidRequestException($"limit must be between 1 and 1000; got {limit}.", "limit");
        var page = await history.ListAsync(new PredictionQuery(userUid, Access.Owner(user), after, limit ?? 50), cancellationToken);
        return TypedResults.Ok(PredictionListResponse.From(page));
    }
}
