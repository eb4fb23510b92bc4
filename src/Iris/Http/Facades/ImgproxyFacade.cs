using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Iris.Configuration;
using Iris.Core.Imaging;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;
using Iris.Core.Transforms.Imgproxy;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Iris.Http.Facades;

/// <summary>
/// imgproxy's URL format under Transforms:ImgproxyPrefix, so the URL builders sites already use (imgproxy-node,
/// imgproxy-js-core, the Ruby, PHP and Python gems, CMS plugins) point at Iris unchanged. A URL is parsed once into
/// the transform pipeline's typed steps and runs through <see cref="TransformTask"/>, the same path as /v1/transform and
/// /v1/img; results share /v1/img's cache, Cache-Control and ETag handling.
/// </summary>
public static class ImgproxyFacade
{
    public static IEndpointRouteBuilder MapImgproxyFacade(this IEndpointRouteBuilder app, IrisOptions options)
    {
        var prefix = options.Transforms.ImgproxyPrefix;
        if (prefix.Length == 0) return app;
        var signature = ImgproxySignature.FromHexLists(options.Transforms.SigningKey, options.Transforms.SigningSalt, options.Transforms.SignatureSize);
        app.MapGet(prefix + "/{**path}", (HttpContext context, TransformTask transform, ImgproxyOptionsParser parser, ImgproxySourceReader sources,
                    TransformResultCache cache, TimeProvider clock, CancellationToken ct) =>
                ServeAsync(context, options.Transforms, signature, transform, parser, sources, cache, clock, ct))
            .WithName("Imgproxy")
            .WithTags("Compatibility: imgproxy")
            .WithSummary("Process an image from an imgproxy URL (/{signature}/{options}/plain/{source}@{ext} or /{signature}/{options}/{base64url source}.{ext})")
            .WithDescription(
                "imgproxy's URL format and processing options (resize/rs, size/s, resizing_type/rt, width/w, height/h, dpr, enlarge/el, extend/ex, " +
                "gravity/g incl. sm and fp, crop/c, trim/t, padding/pd, rotate/rot, auto_rotate/ar, background/bg, blur/bl, sharpen/sh, pixelate/pix, " +
                "quality/q, format_quality/fq, max_bytes/mb, format/f/ext, strip_metadata/sm, cachebuster/cb, expires/exp, filename/fn, " +
                "return_attachment/att, preset/pr). The signature is base64url(HMAC-SHA256(key, salt + path)) with any of the " +
                "Transforms:SigningKey/SigningSalt pairs, truncated to Transforms:SignatureSize bytes; `insecure` or any value is accepted only " +
                "when no key is set and Transforms:AllowUnsigned is true. Sources: http(s) (Sources rules), local:///path under Transforms:LocalRoot, " +
                "s3://bucket/key (Storage:S3's client), iris://{stored image id}. Without a format, AVIF or WebP is chosen from Accept " +
                "(Vary: Accept). An option Iris does not implement answers 400 naming it; a source over the Images/Transforms limits or of " +
                "an unreadable type answers 422, as in imgproxy.")
            .AddOpenApiOperationTransformer(ImageResponses.DescribeImage)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        return app;
    }

    /// <summary>
    /// imgproxy answers 422 ("Invalid source image") for every source it will not process: too many pixels, bytes or
    /// frames, or a type it cannot read, where the recommended API says 413 or 415. Its clients see imgproxy's status.
    /// </summary>
    public static void UseImgproxyStatuses(HttpContext context, ProblemDetails problem)
    {
        var prefix = context.RequestServices.GetRequiredService<IrisOptions>().Transforms.ImgproxyPrefix;
        if (prefix.Length == 0 || !context.Request.Path.StartsWithSegments(prefix) || problem.Status is not (413 or 415)) return;
        problem.Status = StatusCodes.Status422UnprocessableEntity;
        context.Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
    }

    private static async Task<FileContentHttpResult> ServeAsync(HttpContext context, TransformsOptions options, ImgproxySignature signature,
        TransformTask transform, ImgproxyOptionsParser parser, ImgproxySourceReader sources, TransformResultCache cache, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var url = ImgproxyUrl.Parse(RawPath(context, options.ImgproxyPrefix));
        CheckSignature(options, signature, url);
        var imgproxy = parser.Parse(url.OptionSegments);
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        if (imgproxy.Expires is { } expires && now > expires)
            throw new ImgproxyUrlExpiredException(expires);
        OutputFormat? extension = url.Extension is { } ext
            ? ImgproxyOptionsParser.Formats.TryGetValue(ext, out var format)
                ? format
                : throw new InvalidTransformException($"The extension '.{ext}' is not a format Iris writes; use jpg, png, webp, avif, gif, tiff or heic.", "extension")
            : null;
        var pipeline = ImgproxyPipeline.Build(imgproxy, extension);

        var accept = context.Request.Headers.Accept.ToString();
        var dependsOnAccept = pipeline.Output.Format == OutputFormat.Auto;
        var maxAge = imgproxy.Expires is { } until ? Math.Min(options.CacheMaxAgeSeconds, Math.Max(0, until - now)) : options.CacheMaxAgeSeconds;
        var cacheControl = $"public, max-age={maxAge}";
        var key = CacheKey(url.Source, pipeline, imgproxy, dependsOnAccept ? ImageTransformer.AutoChoice(accept) : "");
        if (await cache.GetAsync(key, cancellationToken) is { } cached)
        {
            context.Response.Headers["X-Cache"] = "hit";
            return Send(context, cached, imgproxy, url.Source, cacheControl, dependsOnAccept);
        }

        var bytes = await sources.ReadAsync(url.Source, cancellationToken);
        var resolved = ImgproxyPipeline.ForSource(pipeline, imgproxy, bytes, accept);
        var result = await ImgproxyPipeline.RunAsync(transform, resolved, bytes, imgproxy.MaxBytes, options.DefaultQuality, cancellationToken);
        await cache.PutAsync(key, result, cancellationToken);
        context.Response.Headers["X-Cache"] = "miss";
        return Send(context, result, imgproxy, url.Source, cacheControl, dependsOnAccept);
    }

    private static FileContentHttpResult Send(HttpContext context, TransformResult result, ImgproxyOptions imgproxy, string source, string cacheControl, bool varyOnAccept)
    {
        var name = imgproxy.Filename ?? ImgproxySourceReader.NameOf(source);
        if (Path.GetExtension(name).Length == 0) name += "." + (result.Format == ImageFormat.Jpeg ? "jpg" : result.Format.Name());
        var disposition = imgproxy.ReturnAttachment ? "attachment" : "inline";
        if (name.All(char.IsAscii) && !name.Any(char.IsControl))
        {
            context.Response.Headers.ContentDisposition = $"{disposition}; filename=\"{name.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"";
        }
        else
        {
            // Header values are ASCII: a name beyond it goes as RFC 5987 filename* with an ASCII fallback.
            var header = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue(disposition);
            header.SetHttpFileName(name);
            context.Response.Headers.ContentDisposition = header.ToString();
        }
        return ImageResponses.Send(context, result, cacheControl, varyOnAccept);
    }

    /// <summary>The path after the prefix as the client sent it (before percent-decoding), since that is what was signed.</summary>
    private static string RawPath(HttpContext context, string prefix)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var query = raw.IndexOf('?');
        if (query >= 0) raw = raw[..query];
        var at = raw.IndexOf(prefix + "/", StringComparison.Ordinal);
        return at >= 0 ? raw[(at + prefix.Length)..] : "/";
    }

    private static void CheckSignature(TransformsOptions options, ImgproxySignature signature, ImgproxyUrl url)
    {
        if (!signature.IsConfigured)
        {
            if (options.AllowUnsigned) return;
            throw new UrlSignatureException(
                "URL signing is not configured: set Transforms:SigningKey and Transforms:SigningSalt (hex, as IMGPROXY_KEY and IMGPROXY_SALT), " +
                "or Transforms:AllowUnsigned=true to accept unsigned (insecure) URLs in development.");
        }
        if (!signature.Verify(url.Signature, url.SignedPath))
            throw new UrlSignatureException(
                "The URL's signature does not match: it must be base64url(HMAC-SHA256(key, salt + path)) of the path after the signature, " +
                "with one of the configured key/salt pairs (unsigned URLs such as /insecure/… are refused while signing is on).");
    }

    private static string CacheKey(string source, TransformPipeline pipeline, ImgproxyOptions imgproxy, string auto) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"imgproxy\n{source}\n{pipeline.Canonical}\n{string.Join(",", imgproxy.FormatQuality.Select(p => $"{p.Key}={p.Value}"))}\n" +
            $"{imgproxy.MaxBytes.ToString(CultureInfo.InvariantCulture)}\n{auto}\n{NetVips.NetVips.Version(0)}.{NetVips.NetVips.Version(1)}")));
}
