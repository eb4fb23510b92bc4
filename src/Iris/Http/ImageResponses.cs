using System.Security.Cryptography;
using Iris.Core.Transforms;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;

namespace Iris.Http;

/// <summary>Writes a transformed image: exact Content-Type, a strong ETag of its bytes, and 304 when the client already has them.</summary>
public static class ImageResponses
{
    public static string ETagFor(ReadOnlySpan<byte> bytes) => $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}\"";

    public static Results<FileContentHttpResult, StatusCodeHttpResult> Send(
        HttpContext context, TransformResult result, string? cacheControl = null, bool varyOnAccept = false)
    {
        var etag = ETagFor(result.Bytes);
        var headers = context.Response.Headers;
        headers.ETag = etag;
        if (cacheControl is not null) headers.CacheControl = cacheControl;
        if (varyOnAccept) headers.Vary = "Accept";
        if (result.Width > 0)
        {
            headers["X-Image-Width"] = result.Width.ToString(System.Globalization.CultureInfo.InvariantCulture);
            headers["X-Image-Height"] = result.Height.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (Matches(context.Request, etag))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        return TypedResults.File(result.Bytes, result.MediaType);
    }

    /// <summary>The OpenAPI description of a 200 that carries image bytes in one of the writable formats.</summary>
    public static Task DescribeImage(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
        operation.Responses ??= new OpenApiResponses();
        operation.Responses["200"] = new OpenApiResponse
        {
            Description = "The transformed image. Headers: ETag (strong), Content-Length, X-Image-Width, X-Image-Height.",
            Content = new[] { "image/jpeg", "image/png", "image/webp", "image/avif", "image/tiff", "image/gif" }
                .ToDictionary(type => type, _ => new OpenApiMediaType { Schema = binary }),
        };
        return Task.CompletedTask;
    }

    private static bool Matches(HttpRequest request, string etag)
    {
        var ifNoneMatch = request.Headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length == 0) return false;
        if (ifNoneMatch.Trim() == "*") return true;
        return EntityTagHeaderValue.TryParseList(request.Headers.IfNoneMatch.Select(v => v ?? "").ToList(), out var tags)
            && tags.Any(t => t.Tag.Equals(etag, StringComparison.Ordinal) || t.Tag.Equals(etag.Trim('"'), StringComparison.Ordinal));
    }
}
