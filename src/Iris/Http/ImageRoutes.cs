namespace Iris.Http;

/// <summary>What makes a route an image route: every route that takes an upload is declared with <see cref="AsImageRoute"/>.</summary>
public static class ImageRoutes
{
    /// <summary>
    /// The route waits its turn within Server:MaxImageRequests (<see cref="ImageRequestAdmission"/>) before it reads or
    /// decodes anything, declares the problems every image route can answer (bad parameters, too large, not an image,
    /// corrupt, busy or model not ready), and takes posts without an antiforgery token.
    /// </summary>
    public static RouteHandlerBuilder AsImageRoute(this RouteHandlerBuilder route) => route
        .AddEndpointFilter(async (context, next) =>
        {
            var admission = context.HttpContext.RequestServices.GetRequiredService<ImageRequestAdmission>();
            using (await admission.EnterAsync(context.HttpContext.RequestAborted))
                return await next(context);
        })
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
        // Machine clients post images here; there is no browser form to protect.
        .DisableAntiforgery();
}
