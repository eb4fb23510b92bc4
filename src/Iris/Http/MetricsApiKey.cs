using System.Security.Cryptography;
using System.Text;
using Iris.Configuration;
using Microsoft.AspNetCore.Mvc;

namespace Iris.Http;

/// <summary>
/// Metrics:ApiKey: the metrics route answers only a scraper that sends <c>Authorization: Bearer KEY</c> (the captioning
/// service's METRICS_API_KEY; Prometheus sends it with <c>authorization: {credentials: KEY}</c>), anyone else 401
/// problem+json with that service's messages. Apart from Auth, which leaves /metrics open: this key is the scraper's alone.
/// </summary>
public sealed class MetricsApiKey(RequestDelegate next, IrisOptions options)
{
    private readonly byte[] _keyHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Metrics.ApiKey));

    public async Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments(options.Metrics.Path) || Refusal(http.Request.Headers.Authorization.ToString()) is not { } why)
        {
            await next(http);
            return;
        }
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"metrics\"";
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized, Title = "Unauthorized", Type = "https://iris.dev/problems/unauthorized",
                Detail = why + " Send the key set in Metrics:ApiKey as 'Authorization: Bearer <key>'.",
            },
        });
    }

    private string? Refusal(string header)
    {
        if (header.Length == 0) return "Unauthorized: Missing Authorization header.";
        var parts = header.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2) return "Unauthorized: Invalid Authorization header format.";
        if (!parts[0].Equals("Bearer", StringComparison.OrdinalIgnoreCase)) return "Unauthorized: Invalid authorization scheme.";
        // Compared as hashes, in constant time: the key's length and content are not timed out of the server.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(parts[1])), _keyHash) ? null : "Unauthorized: Invalid API key.";
    }
}
