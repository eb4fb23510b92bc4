using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Iris.Configuration;
using Iris.Core.Imaging;
using Iris.Core.Sources;
using Iris.Core.Storage;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;
using Iris.Core.Transforms.Imgproxy;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>
/// Image transformations: <c>POST /v1/transform</c> for an image in the request, the imgproxy-style URL API
/// <c>GET /v1/img/{signature}/{ops}/{source}</c> for stored images and remote URLs (signed, cached), and uploads.
/// </summary>
public static class TransformApi
{
    public const string OpsDescription =
        "`ops` is an ordered pipeline: operations separated by `;`, a name and its arguments by `:`, arguments by `,` " +
        "(`key=value`, or bare values for the leading positional parameters), e.g. `resize:w=800,h=600,fit=cover;sharpen:sigma=1;format:webp,q=80`. " +
        "Operations: resize (w, h, fit=inside|contain|cover|fill|outside, enlarge, kernel, gravity, background), crop (x, y, w, h, gravity incl. attention|entropy), " +
        "smartcrop (w, h, strategy), trim (threshold, background), rotate (angle, background), flip, flop, blur (radius), gaussblur (sigma), median (size), " +
        "sharpen (sigma, amount, flat, threshold), edge (method=sobel|canny, sigma), emboss, contour, grayscale, sepia, invert, brightness, contrast, " +
        "saturation, sharpness (factors, 1 = unchanged), gamma (exponent), normalize, enhance (several of these at once), " +
        "format (type=jpeg|png|webp|avif|heif|tiff|gif|bmp|auto, q, progressive, subsample, compression, palette, lossless, effort, tiff_compression, background), " +
        "quality (q), metadata (keep, icc=srgb|keep). EXIF orientation is always applied; metadata is stripped unless metadata:keep=true.";

    public static IEndpointRouteBuilder MapTransformApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/transform", TransformAsync)
            .WithName("Transform")
            .WithTags("Transform")
            .WithSummary("Transform an image with a pipeline of operations")
            .WithDescription(
                "Send the image as multipart/form-data (field `image` or `file`), a raw image body, or JSON `{\"image\": \"<base64>\", \"ops\": ...}` " +
                "where ops may also be an array of `{\"op\": \"resize\", \"w\": 800}` objects. `ops` comes from the query string, a form field or the JSON body. " +
                OpsDescription + " Answers the image bytes with its Content-Type, Content-Length and a strong ETag (304 on If-None-Match).")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(ImageResponses.DescribeImage)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .DisableAntiforgery();

        app.MapGet("/v1/img/{signature}/{ops}/{**source}", ImageUrlAsync)
            .WithName("ImageUrl")
            .WithTags("Transform")
            .WithSummary("Transform a stored image or a remote URL (imgproxy-style URL, for <img src>)")
            .WithDescription(
                "`signature` is base64url(HMAC-SHA256(key, salt + \"/{ops}/{source}\")) with Transforms:SigningKey/SigningSalt (hex), as in imgproxy; " +
                "with Transforms:AllowUnsigned any value (e.g. `unsafe`) is accepted. `ops` is the pipeline (`-` for none). `source` is a stored image id " +
                "(from POST /api/v1/upload), `plain/` followed by a percent-encoded http(s) URL, or a base64url-encoded URL; an optional `.webp`-style " +
                "extension picks the output format. Results are cached on disk (Transforms:CacheMaxBytes, LRU) and sent with Cache-Control and a strong ETag. " +
                OpsDescription)
            .AddOpenApiOperationTransformer(ImageResponses.DescribeImage)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status502BadGateway);

        return app;
    }

    private static async Task<Results<FileContentHttpResult, StatusCodeHttpResult>> TransformAsync(
        HttpContext context, TransformTask transform, CancellationToken cancellationToken)
    {
        var upload = await ImageUpload.ReadAsync(context.Request, transform.ImageLimits, cancellationToken);
        var accept = context.Request.Headers.Accept.ToString();
        var parameters = upload.Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("ops", out var jsonOps)
            ? transform.Read(jsonOps, accept)
            : transform.Read(upload.Parameters(context.Request), accept);
        var result = await transform.RunAsync(parameters, upload.Bytes, cancellationToken);
        return ImageResponses.Send(context, result, varyOnAccept: parameters.DependsOnAccept);
    }

    private static async Task<Results<FileContentHttpResult, StatusCodeHttpResult>> ImageUrlAsync(
        HttpContext context, string signature, IrisOptions options, ImageTransformer transformer, TransformResultCache cache,
        IBlobStore blobs, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        var (signedPath, opsText, sourceText) = SplitRawPath(context, signature);
        CheckSignature(options.Transforms, signature, signedPath);

        var source = ParseSource(sourceText);
        var pipeline = transformer.Parser.Parse(opsText);
        if (source.Extension is { } extension && pipeline.Output.Format == OutputFormat.Source)
        {
            if (!TransformPipelineParser.Formats.TryGetValue(extension, out var format))
                throw new InvalidTransformException($"The source's extension '.{extension}' is not an output format; use one of jpg, png, webp, avif, heif, tiff, gif, bmp.", "format");
            pipeline = pipeline with { Output = pipeline.Output with { Format = format } };
        }

        var accept = context.Request.Headers.Accept.ToString();
        var auto = pipeline.Output.Format == OutputFormat.Auto;
        var key = CacheKey(source.Identity, pipeline.Canonical, auto ? ImageTransformer.AutoChoice(accept) : "");
        var cacheControl = $"public, max-age={options.Transforms.CacheMaxAgeSeconds}";
        if (await cache.GetAsync(key, cancellationToken) is { } cached)
        {
            context.Response.Headers["X-Cache"] = "hit";
            return ImageResponses.Send(context, cached, cacheControl, auto);
        }

        var bytes = source.BlobId is { } id
            ? await blobs.GetAsync(id, cancellationToken) ?? throw new BlobNotFoundException(id)
            : await fetcher.FetchAsync(source.Url!, cancellationToken);
        var result = await transformer.TransformAsync(bytes, pipeline, accept, cancellationToken);
        await cache.PutAsync(key, result, cancellationToken);
        context.Response.Headers["X-Cache"] = "miss";
        return ImageResponses.Send(context, result, cacheControl, auto);
    }

    /// <summary>
    /// The path as the client sent it (before any percent-decoding), since that is what was signed, split into the
    /// signed part <c>/{ops}/{source}</c> and its two pieces.
    /// </summary>
    private static (string SignedPath, string Ops, string Source) SplitRawPath(HttpContext context, string signature)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var query = raw.IndexOf('?');
        if (query >= 0) raw = raw[..query];
        var marker = raw.IndexOf("/v1/img/", StringComparison.Ordinal);
        var afterSignature = raw[(marker + "/v1/img/".Length)..];
        var slash = afterSignature.IndexOf('/');
        var signedPath = slash >= 0 ? afterSignature[slash..] : "";
        var rest = signedPath.TrimStart('/');
        var opsEnd = rest.IndexOf('/');
        if (opsEnd < 0)
            throw new InvalidTransformException("The URL must look like /v1/img/{signature}/{ops}/{source}.", "source");
        return (signedPath, Uri.UnescapeDataString(rest[..opsEnd]), rest[(opsEnd + 1)..]);
    }

    private static void CheckSignature(TransformsOptions options, string signature, string signedPath)
    {
        if (options.AllowUnsigned) return;
        if (options.SigningKey.Length == 0)
            throw new UrlSignatureException(
                "URL signing is not configured: set Transforms:SigningKey and Transforms:SigningSalt (hex), or Transforms:AllowUnsigned=true for development.");
        if (!ImgproxySignature.FromHexLists(options.SigningKey, options.SigningSalt, options.SignatureSize).Verify(signature, signedPath))
            throw new UrlSignatureException(
                "The URL's signature does not match: it must be base64url(HMAC-SHA256(key, salt + path)) of the path after the signature, e.g. \"/resize:w=300/{source}\".");
    }

    private sealed record Source(string Identity, string? BlobId, Uri? Url, string? Extension);

    private static Source ParseSource(string text)
    {
        if (text.StartsWith("plain/", StringComparison.Ordinal))
        {
            var plain = Uri.UnescapeDataString(text["plain/".Length..]);
            string? plainExtension = null;
            var at = plain.LastIndexOf('@');
            if (at > 0 && !plain[(at + 1)..].Contains('/'))
            {
                plainExtension = plain[(at + 1)..];
                plain = plain[..at];
            }
            return new Source("url:" + plain, null, ToUrl(plain), plainExtension);
        }
        string? extension = null;
        var dot = text.LastIndexOf('.');
        if (dot > 0)
        {
            extension = text[(dot + 1)..];
            text = text[..dot];
        }
        if (BlobIds.IsValid(text))
            return new Source("blob:" + text, text, null, extension);
        string decoded;
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            throw new InvalidTransformException(
                "source must be a stored image id (32 hex characters), plain/ followed by a percent-encoded URL, or a base64url-encoded URL.", "source");
        }
        return new Source("url:" + decoded, null, ToUrl(decoded), extension);
    }

    private static Uri ToUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new InvalidTransformException($"source must be an absolute http or https URL; got '{(text.Length > 100 ? text[..100] + "…" : text)}'.", "source");

    private static string CacheKey(string source, string pipeline, string auto) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{source}\n{pipeline}\n{auto}\n{NetVips.NetVips.Version(0)}.{NetVips.NetVips.Version(1)}")));
}
