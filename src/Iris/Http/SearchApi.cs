using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Library;
using Iris.Core.Library.Vectors;
using Iris.Core.Tasks;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Iris.Http;

/// <summary>Search the library by text, by an example image, or by a library image ("more like this").</summary>
public static class SearchApi
{
    private static readonly QueryParameters.Parameter[] Filters =
    [
        new("k", JsonSchemaType.Integer, "Hits per page, 1–Library:MaxK (default 20)."),
        new("collection", JsonSchemaType.String, "Only this collection (404 if it holds no image)."),
        new("label", JsonSchemaType.String, "Only images with this detected label (e.g. dog)."),
        new("after", JsonSchemaType.String, "Only images captured at or after this time (ISO 8601; EXIF capture time)."),
        new("before", JsonSchemaType.String, "Only images captured before this time."),
        new("has_faces", JsonSchemaType.Boolean, "true: only images with a face; false: only images without."),
        new("person", JsonSchemaType.String, "Only images this person is in (a person_id of GET /v1/people; 404 if none)."),
        new("safe_only", JsonSchemaType.Boolean, "true: only images the moderate task judged safe at indexing (Library:IndexTasks includes moderate)."),
        new("min_score", JsonSchemaType.Number, "Drop every hit whose calibrated score is below this (0..1; 0.5 is chance, see README, Search)."),
        new("sort", JsonSchemaType.String, "relevance (default) or date (capture time, newest first; after the min_score cut)."),
        new("mode", JsonSchemaType.String, "hybrid (default), semantic (CLIP only) or text (full text only)."),
        new("dedupe", JsonSchemaType.Boolean, "Collapse near-duplicates (perceptual hashes within Library:NearDuplicateDistance bits)."),
        new("cursor", JsonSchemaType.String, "next_cursor of the previous page."),
    ];

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/search", SearchTextAsync)
            .WithName("SearchImages")
            .WithTags("Search")
            .WithSummary("Search the library by text")
            .WithDescription(
                "`text` (required) is matched two ways: its CLIP embedding against the images' (semantic) and its words against captions, " +
                "OCR text, labels and tags (full text). `mode=hybrid` (default) fuses both rankings by reciprocal rank fusion. Filters apply " +
                "inside the scan, so a filtered page is full. Each hit has `image_id`, a calibrated `score` (0..1, 0.5 is chance; `min_score` " +
                "cuts on it in every mode, before `sort`), the raw CLIP cosine `similarity`, the `matched` fields and a `url` (/images/{id}).")
            .AddOpenApiOperationTransformer(QueryParameters.Describe([new("text", JsonSchemaType.String, "The query."), .. Filters]))
            .Produces<SearchResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        app.MapPost("/v1/search", SearchByExampleAsync)
            .WithName("SearchImagesByExample")
            .WithTags("Search")
            .WithSummary("Search the library with an image or a library image (more like this)")
            .WithDescription(
                "Send an image (multipart `image`/`file`, or a raw body) to find similar ones, or JSON `{\"image_id\": \"…\"}` for more like a " +
                "library image (the image itself is left out), or JSON `{\"text\": \"…\"}`. The query string takes the filters of GET /v1/search.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(QueryParameters.Describe(Filters))
            .Produces<SearchResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<SearchResponse>> SearchTextAsync(
        HttpRequest request, LibrarySearch search, ClaimsPrincipal user, IrisOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var query = Read(request, user) with { Text = request.Query["text"].ToString() };
        return TypedResults.Ok(From(await search.SearchAsync(query, cancellationToken), id => ImageUrls.For(id, query.Filter.Owner, options, clock)));
    }

    private static async Task<Ok<SearchResponse>> SearchByExampleAsync(
        HttpRequest request, LibrarySearch search, ImageDecoder decoder, ClaimsPrincipal user, IrisOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var query = Read(request, user);
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            request.EnableBuffering();
            using (var document = await LibraryApi.ReadJsonAsync(request, cancellationToken))
            {
                var root = document.RootElement;
                string? Text(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                if (Text("image_id") is { } id) query = query with { ImageId = id };
                else if (Text("text") is { } text) query = query with { Text = text };
                else if (Text("image") is null)
                    throw new InvalidRequestException("The JSON body needs 'image_id' (more like a library image), 'text', or 'image' (base64).", "image_id");
            }
            if (query.ImageId is null && query.Text is null)
            {
                request.Body.Position = 0;
                query = query with { Image = (await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken)).Bytes };
            }
        }
        else
            query = query with { Image = (await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken)).Bytes };
        return TypedResults.Ok(From(await search.SearchAsync(query, cancellationToken), id => ImageUrls.For(id, query.Filter.Owner, options, clock)));
    }

    private static SearchResponse From(SearchPage result, Func<string, string> urlOf) => new(
        result.Hits.Select(h => SearchHitResponse.From(h, urlOf)).ToList(), result.NextCursor, result.Mode.ToString().ToLowerInvariant(), EmbeddingSpaceResponse.From(result.Space));

    /// <summary>The query string's paging, filters and ranking options; each bad value is a 400 naming its parameter.</summary>
    internal static SearchQuery Read(HttpRequest request, ClaimsPrincipal user)
    {
        string? Value(string name) => request.Query[name].ToString() is { Length: > 0 } v ? v : null;
        return new SearchQuery
        {
            K = Value("k") is { } k
                ? int.TryParse(k, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
                    : throw new InvalidParameterException($"k must be an integer between 1 and 1000; got '{k}'.", "k")
                : 20,
            Filter = new VectorFilter(
                Owner: Access.Owner(user),
                Collection: LibraryApi.Collection(Value("collection")),
                Label: Value("label"),
                After: Time(Value("after"), "after"),
                Before: Time(Value("before"), "before"),
                HasFaces: Bool(Value("has_faces"), "has_faces")),
            MinScore = Value("min_score") is { } min
                ? float.TryParse(min, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) ? m
                    : throw new InvalidParameterException($"min_score must be a number between 0 and 1; got '{min}'.", "min_score")
                : null,
            Sort = Value("sort") switch
            {
                null or "relevance" => SearchSort.Relevance,
                "date" => SearchSort.Date,
                var other => throw new InvalidParameterException($"sort must be relevance or date; got '{other}'.", "sort"),
            },
            Mode = Value("mode") switch
            {
                null or "hybrid" => SearchMode.Hybrid,
                "semantic" => SearchMode.Semantic,
                "text" => SearchMode.Text,
                var other => throw new InvalidParameterException($"mode must be hybrid, semantic or text; got '{other}'.", "mode"),
            },
            Dedupe = Bool(Value("dedupe"), "dedupe") ?? false,
            SafeOnly = Bool(Value("safe_only"), "safe_only") ?? false,
            Cursor = Value("cursor"),
            Person = Value("person"),
        };
    }

    private static DateTimeOffset? Time(string? value, string name) => value is null ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time
        : throw new InvalidParameterException($"{name} must be an ISO 8601 time (2024-06-01 or 2024-06-01T12:00:00Z); got '{value}'.", name);

    private static bool? Bool(string? value, string name) => value?.ToLowerInvariant() switch
    {
        null => null,
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new InvalidParameterException($"{name} must be true or false; got '{value}'.", name),
    };
}
