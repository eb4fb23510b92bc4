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

    /// <summary>
    /// The image with its headers; the file result itself answers a matching <c>If-None-Match</c> with 304 (and the other
    /// HTTP preconditions as the standard says), the headers set here being kept on it.
    /// </summary>
    public static FileContentHttpResult Send(
        HttpContext context, TransformResult result, string? cacheControl = null, bool varyOnAccept = false)
    {
        var headers = context.Response.Headers;
        if (cacheControl is not null) headers.CacheControl = cacheControl;
        if (varyOnAccept) headers.Vary = "Accept";
        if (result.Width > 0)
        {
            headers["X-Image-Width"] = result.Width.ToString(System.Globalization.CultureInfo.InvariantCulture);
            headers["X-Image-Height"] = result.Height.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return TypedResults.File(result.Bytes, result.MediaType, entityTag: new EntityTagHeaderValue(ETagFor(result.Bytes)));
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
}
