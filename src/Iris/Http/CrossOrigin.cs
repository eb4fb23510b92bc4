using Iris.Configuration;

namespace Iris.Http;

/// <summary>
/// Cors:Origins: browsers on those origins may call every route (the captioning service's ORIGINS). <c>*</c> allows any
/// origin without credentials (the CORS rules forbid both at once); listed origins may send credentials, as that
/// service allowed. Empty (the default) adds no CORS headers, so browsers keep the same-origin rule.
/// </summary>
public static class CrossOrigin
{
    public static IServiceCollection AddIrisCors(this IServiceCollection services, IrisOptions options)
    {
        var origins = options.Cors.OriginList;
        if (origins.Count == 0) return services;
        return services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (origins.Contains("*")) policy.AllowAnyOrigin();
            else policy.WithOrigins([.. origins]).AllowCredentials();
            policy.AllowAnyMethod().AllowAnyHeader()
                .WithExposedHeaders("X-Request-Id", "Retry-After", "Location", "ETag", "X-Image-Width", "X-Image-Height")
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
        }));
    }

    /// <summary>After routing and before access control, so a preflight is answered without credentials.</summary>
    public static WebApplication UseIrisCors(this WebApplication app, IrisOptions options)
    {
        if (options.Cors.OriginList.Count > 0) app.UseCors();
        return app;
    }
}
