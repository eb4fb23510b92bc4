using Iris.Configuration;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace Iris.Http;

/// <summary>
/// Refuses a request target (path and query) longer than <c>Server:MaxUrlLength</c> with 414 problem+json. Kestrel's own
/// request-line limit is set above it (see <see cref="IrisServer"/>), because Kestrel's refusal is a bare 414.
/// </summary>
public sealed class UrlLengthLimit(RequestDelegate next, IrisOptions options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        if (target.Length <= options.Server.MaxUrlLength)
        {
            await next(context);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status414UriTooLong;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status414UriTooLong,
                Title = "URI too long",
                Detail = $"The request target is {target.Length} bytes; at most {options.Server.MaxUrlLength} are accepted (Server:MaxUrlLength). " +
                    "Send long parameters in the request body instead.",
                Type = "https://iris.dev/problems/uri-too-long",
            },
        });
    }
}
