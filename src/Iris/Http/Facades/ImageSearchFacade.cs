using System.Globalization;
using System.Security.Claims;
using Iris.Core.Library;
using Iris.Core.Library.Vectors;
using Iris.Core.Tasks;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Iris.Http.Facades;

/// <summary>
/// The image search service of seed 002 (searchapi + cdnapi behind one nginx): <c>GET /api/v1/image/search?text=…</c>
/// answers a JSON list of <c>{"image_id", "score"}</c>, best first, each id served at <c>GET /images/{image_id}</c>
/// (<see cref="ImageCdnApi"/>). Its search was a CLIP text embedding against a vector database, so this is the library's
/// semantic search; the score is the cosine similarity, as Milvus' inner product on unit vectors was.
/// </summary>
public static class ImageSearchFacade
{
    private const int DefaultLimit = 10;

    public static IEndpointRouteBuilder MapImageSearchFacade(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/image/search", SearchAsync)
            .WithName("ImageSearchCompat")
            .WithTags("Compatibility")
            .WithSummary("Image search service (seed 002): text → [{image_id, score}]")
            .WithDescription(
                "`text` (required): the query. `limit` (or `top_k`, `k`; default 10, at most Library:MaxK). Answers a JSON array of " +
                "`{\"image_id\": \"…\", \"score\": 0.31}`, best first; GET /images/{image_id} serves each image. Semantic (CLIP) search over " +
                "the library, the caller's images only when access control is on.")
            .AddOpenApiOperationTransformer(QueryParameters.Describe(
                new QueryParameters.Parameter("text", JsonSchemaType.String, "The query."),
                new QueryParameters.Parameter("limit", JsonSchemaType.Integer, "Most hits (default 10).")))
            .Produces<IReadOnlyList<ImageSearchHit>>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    private static async Task<Ok<IReadOnlyList<ImageSearchHit>>> SearchAsync(
        HttpRequest request, LibrarySearch search, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var text = request.Query["text"].ToString();
        if (text.Length == 0)
            // FastAPI answered a missing required query parameter with 422.
            throw new MissingQueryParameterException("text", "Query parameter 'text' is required: GET /api/v1/image/search?text=red+flower.");
        var name = new[] { "limit", "top_k", "k" }.FirstOrDefault(n => request.Query[n].ToString().Length > 0);
        var limit = DefaultLimit;
        if (name is not null && !int.TryParse(request.Query[name].ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out limit))
            throw new InvalidParameterException($"{name} must be an integer; got '{request.Query[name]}'.", name);
        var result = await search.SearchAsync(new SearchQuery
        {
            Text = text,
            K = limit,
            Mode = SearchMode.Semantic,
            Filter = new VectorFilter(Owner: Access.Owner(user)),
        }, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ImageSearchHit>>(result.Hits.Select(h => new ImageSearchHit(h.Image.Id, h.Similarity ?? h.Score)).ToList());
    }
}

/// <summary>One hit of the seed's search API.</summary>
public sealed record ImageSearchHit(string ImageId, float Score);

/// <summary>A required query parameter is missing: 422, as the FastAPI service answered.</summary>
public sealed class MissingQueryParameterException(string parameter, string message) : InvalidParameterException(message, parameter);
