using System.Globalization;
using System.Security.Claims;
using Iris.Core.Library;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Iris.Http;

/// <summary>
/// <c>GET /images/{id}</c>: a library image's stored bytes, CDN-style. The id is the content's hash, so the bytes under
/// it never change: a strong ETag (the id), 304 on <c>If-None-Match</c>, byte ranges (206), and a year-long immutable
/// Cache-Control (<c>private</c> when access control is on, since then only the owner may read it). <c>?w=</c> serves a
/// thumbnail of that width through the transform pipeline, kept in the transform result cache.
/// </summary>
public static class ImageCdnApi
{
    private const int MaxThumbnailWidth = 4096;
    private const string CacheForAYear = "max-age=31536000, immutable";

    public static IEndpointRouteBuilder MapImageCdnApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/images/{id}", ServeAsync)
            .WithName("ServeImage")
            .WithTags("Library")
            .WithSummary("A library image's bytes (or a thumbnail with ?w=)")
            .WithDescription(
                "The stored bytes with their content type, a strong ETag, 304 on If-None-Match, Range requests (206) and " +
                "`Cache-Control: public, max-age=31536000, immutable` (private with access control on: only the image's owner may read it). " +
                $"`w` (1–{MaxThumbnailWidth}) answers a thumbnail that wide, aspect kept, made once and cached.")
            .AddOpenApiOperationTransformer(ImageResponses.DescribeImage)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<FileContentHttpResult> ServeAsync(
        string id, string? w, HttpContext context, ImageLibrary library, TransformTask transform, TransformResultCache cache, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var owner = Access.Owner(user);
        var cacheControl = (owner is null ? "public, " : "private, ") + CacheForAYear;
        if (w is null)
        {
            var (image, bytes) = await library.ReadAsync(id, owner, cancellationToken);
            context.Response.Headers.CacheControl = cacheControl;
            return TypedResults.File(bytes, image.MediaType, entityTag: new EntityTagHeaderValue($"\"{image.Id}\""), enableRangeProcessing: true);
        }
        if (!int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var width) || width is < 1 or > MaxThumbnailWidth)
            throw new InvalidParameterException($"w must be a width in pixels between 1 and {MaxThumbnailWidth}; got '{w}'.", "w");
        // The cache names its files by the key, so the key is a hash (as /v1/img's are).
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"library-thumbnail\n{id}\n{width}")));
        // The owner check comes first, so the cache never serves another caller's thumbnail.
        var original = await library.GetAsync(id, owner, cancellationToken);
        var result = await cache.GetAsync(key, cancellationToken);
        if (result is null)
        {
            var (_, source) = await library.ReadAsync(id, owner, cancellationToken);
            result = await transform.RunAsync(transform.Read($"resize:w={width}"), source, cancellationToken);
            await cache.PutAsync(key, result, cancellationToken);
            context.Response.Headers["X-Cache"] = "miss";
        }
        else
            context.Response.Headers["X-Cache"] = "hit";
        context.Response.Headers.CacheControl = cacheControl;
        context.Response.Headers["X-Image-Width"] = result.Width.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["X-Image-Height"] = result.Height.ToString(CultureInfo.InvariantCulture);
        return TypedResults.File(result.Bytes, result.MediaType, entityTag: new EntityTagHeaderValue($"\"{original.Id}-w{width}\""), enableRangeProcessing: true);
    }
}
