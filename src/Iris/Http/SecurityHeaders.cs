namespace Iris.Http;

/// <summary>
/// Headers that keep what Iris serves from running as a page of its origin. Every answer is <c>nosniff</c>. Every answer
/// that sets no policy of its own gets a sandboxing Content-Security-Policy: a library image may be an SVG carrying a
/// script, and opened from <c>/images/{id}</c> it would otherwise run with the web UI's origin, and so with the API key
/// the UI keeps. The web UI sets its own policy; the API docs page (Scalar) runs its script and is left alone.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>No script, no plugins, no framing; the inline styles an SVG draws with still apply.</summary>
    public const string SandboxPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox";

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                var headers = http.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                if (!headers.ContainsKey("Content-Security-Policy") && !http.Request.Path.StartsWithSegments("/docs"))
                    headers.ContentSecurityPolicy = SandboxPolicy;
                return Task.CompletedTask;
            });
            return next(http);
        });
        return app;
    }
}
