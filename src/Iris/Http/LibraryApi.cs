using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Library;
using Iris.Core.Sources;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>The image library: add images (indexed in the background), list them, read one, delete one.</summary>
public static partial class LibraryApi
{
    private const int MaxTags = 50;
    private const int MaxFieldLength = 200;

    public static IEndpointRouteBuilder MapLibraryApi(this IEndpointRouteBuilder app)
    {
        var images = app.MapGroup("/v1/images").WithTags("Library");
        images.MapPost("/", IngestAsync)
            .WithName("AddImages")
            .WithSummary("Add images to the library; they are indexed in the background")
            .WithDescription(
                "Send one or several files (multipart/form-data, any field names), a raw image body, or JSON `{\"url\": \"https://…\"}` " +
                "(fetched under the Sources options) or `{\"image\": \"<base64>\"}`. Optional `collection` (default `default`; letters, digits, " +
                "`-`, `_`, `.`), `tags` (comma-separated, or a JSON array), `external_id`, in the query, the form or the JSON body. " +
                "An image is stored once under its content id (the first 128 bits of its SHA-256): the same bytes again answer the same " +
                "id with `created: false` and are not indexed again. Each new image gets an indexing job (GET /v1/jobs/{job_id}); " +
                "its state is on GET /v1/images/{id}. An `Idempotency-Key` header makes a repeated request answer the first one's images. " +
                "Answers 202.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .AsImageRoute();
        images.MapGet("/", ListAsync)
            .WithName("ListImages")
            .WithSummary("List the library's images, newest first")
            .WithDescription("Filters: `collection` (404 if it holds no image), `state` (queued, indexed, failed), `person` (images a person of " +
                             "GET /v1/people is in; 404 if none). `limit` 1–1000 (default 50); " +
                             "pass the answer's `next_cursor` as `cursor` for the next page.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        images.MapGet("/{id}", GetAsync)
            .WithName("GetImage")
            .WithSummary("One library image: metadata, index state and what the index holds")
            .WithDescription("`state` is queued, indexed or failed (with `error`); `index` is what search matches and filters on: caption, OCR " +
                             "text, labels, face count, EXIF capture time, size, perceptual hash, the embedding space and whether it holds the vector. " +
                             "`duplicates`: `exact` (ids of images with the same pixels) and `near` (perceptual hashes within " +
                             "Library:NearDuplicateDistance bits, nearest first, dismissed matches left out).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        images.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteImage")
            .WithSummary("Remove an image from the index, the library and the store")
            .WithDescription("Answers 204. The image never comes back in a search, and GET /images/{id} answers 404.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        images.MapPost("/{id}/distinct", MarkDistinctAsync)
            .WithName("MarkImagesDistinct")
            .WithSummary("Dismiss a false near-duplicate match")
            .WithDescription("JSON `{\"image_id\": \"…\"}`: the two images are not near-duplicates, whatever their perceptual hashes say; " +
                             "`dedupe=true` never collapses them again. Answers 204.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/library/status", StatusAsync)
            .WithTags("Library")
            .WithName("GetLibraryStatus")
            .WithSummary("Indexing progress: images queued, indexed and failed, and the embedding space")
            .WithDescription("Counts of the caller's images in each index state, for one `collection` or the whole library, from one grouped " +
                             "query (no listing). A collection that holds no image yet answers zeros (GET /v1/images?collection= answers 404 " +
                             "for it). `space` is the embedding space search uses; `reindex` names the space `iris library reindex` is " +
                             "building beside it, null when none is in progress.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<Ok<LibraryStatusResponse>> StatusAsync(ImageLibrary library, ClaimsPrincipal user, string? collection, CancellationToken cancellationToken) =>
        TypedResults.Ok(LibraryStatusResponse.From(await library.StatusAsync(Access.Owner(user), Collection(collection), cancellationToken)));

    private static async Task<NoContent> MarkDistinctAsync(string id, HttpRequest request, ImageLibrary library, CancellationToken cancellationToken)
    {
        using var document = await ReadJsonAsync(request, cancellationToken);
        if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("image_id", out var other) || other.ValueKind != JsonValueKind.String)
            throw new InvalidRequestException("The JSON body must be {\"image_id\": \"…\"}: the image that is not a near-duplicate of this one.", "image_id");
        await library.MarkDistinctAsync(id, other.GetString()!, Access.Owner(request.HttpContext.User), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Accepted<IngestResponse>> IngestAsync(
        HttpRequest request, ImageLibrary library, ImageDecoder decoder, RemoteImageFetcher fetcher, IrisOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (items, field) = await ReadAsync(request, decoder.Limits, fetcher, cancellationToken);
        var collection = Collection(field("collection")) ?? LibraryImage.DefaultCollection;
        var tags = Tags(field("tags"));
        var externalId = field("external_id");
        if (externalId is { Length: > MaxFieldLength })
            throw new InvalidRequestException($"external_id must be at most {MaxFieldLength} characters.", "external_id");
        var key = request.Headers["Idempotency-Key"].ToString();
        if (key.Length > 255)
            throw new InvalidRequestException("The Idempotency-Key header must be at most 255 characters.", "Idempotency-Key");
        var ingested = await library.IngestAsync(items, new IngestRequest(Access.Owner(request.HttpContext.User), collection, tags, externalId),
            key.Length == 0 ? null : key, cancellationToken);
        var owner = Access.Owner(request.HttpContext.User);
        return TypedResults.Accepted("/v1/images", new IngestResponse(ingested.Select(i => IngestedImageResponse.From(i, id => ImageUrls.For(id, owner, options, clock))).ToList()));
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Array => string.Join(",", value.EnumerateArray().Select(e => e.ToString())),
        JsonValueKind.Null => null,
        _ => value.ToString(),
    };

    /// <summary>The images of the request and a lookup of its other fields (query string first, then the form or JSON body).</summary>
    private static async Task<(IReadOnlyList<IngestItem> Items, Func<string, string?> Field)> ReadAsync(
        HttpRequest request, ImageLimits limits, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        string? Query(string name) => request.Query[name].ToString() is { Length: > 0 } v ? v : null;
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            using (var document = await ReadJsonAsync(request, cancellationToken))
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw new InvalidRequestException("The JSON body must be an object: {\"url\": \"https://…\"} or {\"image\": \"<base64>\"}.", "url");
                var values = new Dictionary<string, string?>();
                foreach (var property in root.EnumerateObject())
                {
                    // JSON allows a name twice; which value would win is a guess, so the request is refused.
                    if (!values.TryAdd(property.Name, Text(property.Value)))
                        throw new InvalidRequestException($"The JSON body gives '{property.Name}' more than once.", property.Name);
                }
                string? Field(string name) => Query(name) ?? values.GetValueOrDefault(name);
                if (values.GetValueOrDefault("url") is { } url)
                    return ([new IngestItem(await FetchAsync(url, fetcher, cancellationToken), Path.GetFileName(new Uri(url).AbsolutePath))], Field);
                if (values.GetValueOrDefault("image") is { } base64)
                {
                    if (base64.Length / 4L * 3 > limits.MaxBytes + 3) throw new ImageTooLargeException(base64.Length / 4L * 3, limits.MaxBytes);
                    var buffer = new byte[base64.Length / 4 * 3 + 3];
                    if (!Convert.TryFromBase64String(base64, buffer, out var written))
                        throw new InvalidRequestException("The 'image' field is not valid base64.", "image");
                    return ([new IngestItem(buffer.AsMemory(0, written), null)], Field);
                }
                throw new InvalidRequestException("The JSON body needs 'url' (an http(s) URL to fetch) or 'image' (base64).", "url");
            }
        }
        if (Query("url") is { } queryUrl && !request.HasFormContentType && (request.ContentLength ?? 0) == 0)
            return ([new IngestItem(await FetchAsync(queryUrl, fetcher, cancellationToken), null)], Query);
        var (images, form) = await JobsApi.ReadImagesAsync(request, limits, cancellationToken);
        return (images.Select(i => new IngestItem(i.Bytes, i.FileName)).ToList(),
            name => Query(name) ?? (form is not null && form[name].ToString() is { Length: > 0 } v ? v : null));
    }

    /// <summary>The request's JSON body; a body that is not JSON is a 400 saying why.</summary>
    internal static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"The JSON body is not valid JSON: {e.Message}");
        }
    }

    private static async Task<byte[]> FetchAsync(string raw, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new Iris.Core.Tasks.InvalidParameterException($"url must be an absolute http(s) URL; got '{raw}'.", "url");
        return await fetcher.FetchAsync(url, cancellationToken);
    }

    internal static string? Collection(string? value)
    {
        if (value is null) return null;
        return CollectionName().IsMatch(value)
            ? value
            : throw new Iris.Core.Tasks.InvalidParameterException(
                $"collection must be 1–64 letters, digits, '-', '_' or '.'; got '{(value.Length > 80 ? value[..80] + "…" : value)}'.", "collection");
    }

    private static List<string> Tags(string? value)
    {
        if (value is null) return [];
        var tags = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        if (tags.Count > MaxTags)
            throw new Iris.Core.Tasks.InvalidParameterException($"tags holds {tags.Count} tags; an image takes at most {MaxTags}.", "tags");
        if (tags.Find(t => t.Length > 64) is { } tooLong)
            throw new Iris.Core.Tasks.InvalidParameterException($"A tag is at most 64 characters; '{tooLong[..64]}…' is longer.", "tags");
        return tags;
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex CollectionName();

    private static async Task<Ok<ImageListResponse>> ListAsync(
        ImageLibrary library, Iris.Core.Library.People.LibraryPeople people, ClaimsPrincipal user, IrisOptions options, TimeProvider clock,
        string? collection, string? state, string? limit, string? cursor, string? person, CancellationToken cancellationToken)
    {
        IndexState? filter = null;
        if (state is not null)
            // One name exactly: Enum.TryParse would also take numbers and OR comma lists ("queued,indexed" is Indexed).
            filter = Enum.GetValues<IndexState>().Cast<IndexState?>().FirstOrDefault(s => s.ToString()!.Equals(state, StringComparison.OrdinalIgnoreCase))
                ?? throw new Iris.Core.Tasks.InvalidParameterException($"state must be one of queued, indexed, failed; got '{state}'.", "state");
        var size = 50;
        if (limit is not null && (!int.TryParse(limit, out size) || size is < 1 or > 1000))
            throw new Iris.Core.Tasks.InvalidParameterException($"limit must be an integer between 1 and 1000; got '{limit}'.", "limit");
        if (person is not null) await people.RequireAsync(person, Access.Owner(user), cancellationToken);
        var page = await library.ListAsync(new LibraryQuery(Access.Owner(user), Collection(collection), size, cursor, filter, person), cancellationToken);
        var owner = Access.Owner(user);
        return TypedResults.Ok(new ImageListResponse(page.Images.Select(i => ImageResponse.From(i, id => ImageUrls.For(id, owner, options, clock))).ToList(), page.NextCursor));
    }

    private static async Task<Ok<ImageResponse>> GetAsync(
        string id, ImageLibrary library, ClaimsPrincipal user, IrisOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var owner = Access.Owner(user);
        var image = await library.GetAsync(id, owner, cancellationToken);
        string UrlOf(string i) => ImageUrls.For(i, owner, options, clock);
        return TypedResults.Ok(ImageResponse.From(image, UrlOf, await library.HasVectorAsync(id, cancellationToken)) with
        {
            Duplicates = ImageDuplicatesResponse.From(await Duplicates.OfAsync(library, image, cancellationToken), UrlOf),
        });
    }

    private static async Task<NoContent> DeleteAsync(string id, ImageLibrary library, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await library.DeleteAsync(id, Access.Owner(user), cancellationToken);
        return TypedResults.NoContent();
    }
}
