using System.Security.Cryptography;
using Iris.Configuration;

namespace Iris.Http;

/// <summary>
/// The built-in web UI: static files (src/Iris/WebUi) embedded in iris.dll and served at <c>/ui</c>. They are
/// plain HTML, CSS and ES modules with no build step and no CDN, so the UI works offline and in the Docker image
/// without a wwwroot. The files are public even with auth on (they hold no data); every API call the page makes
/// carries the key the user typed, so the API stays as protected as before.
/// </summary>
public static class WebUi
{
    public const string Path = "/ui";

    /// <summary>The page's ES modules: app.js and the ones it imports.</summary>
    private static readonly string[] Modules = ["app.js", "api.js", "dom.js", "search.js"];

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    public static IEndpointRouteBuilder MapWebUi(this IEndpointRouteBuilder app, IrisOptions options)
    {
        if (!options.Ui.Enabled) return app;

        // Routing matches /ui/ to /ui too; the page references its assets by absolute path, so both forms work.
        Map(app, Path, Load("index.html", "text/html; charset=utf-8"));
        Map(app, Path + "/app.css", Load("app.css", "text/css; charset=utf-8"));
        foreach (var module in Modules)
            Map(app, Path + "/" + module, Load(module, "text/javascript; charset=utf-8"));
        return app;
    }

    private static void Map(IEndpointRouteBuilder app, string path, Asset asset) =>
        app.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], (HttpContext http) => Serve(http, asset))
            .ExcludeFromDescription()
            .AllowAnonymous();

    private static Asset Load(string name, string contentType)
    {
        using var stream = typeof(WebUi).Assembly.GetManifestResourceStream("Iris.WebUi." + name)
            ?? throw new InvalidOperationException($"The web UI file '{name}' is not embedded in the Iris assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.ToArray();
        return new Asset(bytes, contentType, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
    }

    private static IResult Serve(HttpContext http, Asset asset)
    {
        var headers = http.Response.Headers;
        // no-cache + ETag: a browser revalidates after an upgrade instead of running an old app.js against a new API.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        headers.XContentTypeOptions = "nosniff";
        // Everything the page needs comes from this server; images it shows are blob: URLs of the user's own files.
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
        if (http.Request.Headers.IfNoneMatch == asset.ETag)
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }
}
