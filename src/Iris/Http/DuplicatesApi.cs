using System.Globalization;
using System.Security.Claims;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Library;
using Iris.Core.Tasks;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Iris.Http;

/// <summary>The library's duplicates: exact (same pixels) and near (perceptual hash), listed in groups.</summary>
public static class DuplicatesApi
{
    public static IEndpointRouteBuilder MapDuplicatesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/duplicates", ListAsync)
            .WithName("ListDuplicates")
            .WithTags("Library")
            .WithSummary("List the library's duplicate images in groups")
            .WithDescription(
                "`kind=exact` (default): images with the same decoded pixels (a re-encode, stripped metadata); the same bytes are already one id. " +
                "`kind=near`: images whose perceptual hashes (dHash) differ in at most Library:NearDuplicateDistance bits, exact duplicates and " +
                "pairs dismissed with POST /v1/images/{id}/distinct left out; `distance` is each image's distance to the group's first. " +
                "Largest groups first; `limit` 1–1000 (default 50), `cursor` the previous page's `next_cursor`.")
            .AddOpenApiOperationTransformer(QueryParameters.Describe(
            [
                new("kind", JsonSchemaType.String, "exact (default) or near."),
                new("collection", JsonSchemaType.String, "Only this collection (404 if it holds no image)."),
                new("limit", JsonSchemaType.Integer, "Groups per page, 1–1000 (default 50)."),
                new("cursor", JsonSchemaType.String, "next_cursor of the previous page."),
            ]))
            .Produces<DuplicateGroupsResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Ok<DuplicateGroupsResponse>> ListAsync(
        HttpRequest request, ImageLibrary library, ClaimsPrincipal user, IrisOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        string? Value(string name) => request.Query[name].ToString() is { Length: > 0 } v ? v : null;
        var kind = Value("kind") switch
        {
            null or "exact" => DuplicateKind.Exact,
            "near" => DuplicateKind.Near,
            var other => throw new InvalidParameterException($"kind must be exact or near; got '{other}'.", "kind"),
        };
        var limit = Value("limit") is { } text
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
                : throw new InvalidParameterException($"limit must be an integer between 1 and 1000; got '{text}'.", "limit")
            : 50;
        var owner = Access.Owner(user);
        var page = await Duplicates.ListAsync(library, owner, LibraryApi.Collection(Value("collection")), kind, limit, Value("cursor"), cancellationToken);
        return TypedResults.Ok(DuplicateGroupsResponse.From(page, id => ImageUrls.For(id, owner, options, clock)));
    }
}
