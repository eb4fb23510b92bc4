using System.Security.Claims;
using System.Text;
using System.Threading.RateLimiting;
using Iris.Configuration;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Mvc;
using Microsoft.IdentityModel.Tokens;

namespace Iris.Security;

/// <summary>
/// Who may call Iris and how often. Off by default (the quick start and a trusted network need none). With API keys
/// (<c>Auth:ApiKeys</c>) or JWT validation (<c>Auth:Jwt</c>) configured, every route needs a caller, except the health
/// probes, <c>/metrics</c> and the API reference; the caller's name owns the jobs it submits and sees only those.
/// The owner is namespaced by the kind of credential (<c>key:alice</c>, <c>jwt:alice</c>), so a token whose subject
/// happens to equal an API key's name is a different caller, unless <c>Auth:SharedOwnerNamespace</c> says they are one.
/// <c>RateLimit:PermitsPerMinute</c> gives each caller (or each client address, without auth) a token bucket.
/// </summary>
public static class Access
{
    private const string Selector = "iris";

    /// <summary>
    /// The claim every authenticated caller carries: its namespaced owner. Every route that is not explicitly anonymous
    /// requires it, so with auth on a request never reaches a job route without an owner (a null owner sees every job).
    /// </summary>
    public const string OwnerClaimType = "iris:owner";

    public static bool Enabled(IrisOptions options) => options.Auth.ApiKeys.Count > 0 || options.Auth.Jwt.Enabled;

    public static IServiceCollection AddIrisAccess(this IServiceCollection services, IrisOptions options)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                options.RateLimit.PermitsPerMinute <= 0 || Exempt(http.Request.Path, options)
                    ? RateLimitPartition.GetNoLimiter("exempt")
                    : RateLimitPartition.GetTokenBucketLimiter(Caller(http), _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = options.RateLimit.Burst > 0 ? options.RateLimit.Burst : options.RateLimit.PermitsPerMinute,
                        TokensPerPeriod = options.RateLimit.PermitsPerMinute,
                        ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    }));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteProblemAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
                    $"This caller may make {options.RateLimit.PermitsPerMinute} requests a minute (RateLimit:PermitsPerMinute); retry after {Math.Ceiling(retryAfter.TotalSeconds)} s.");
            };
        });

        if (!Enabled(options))
        {
            services.AddAuthorization();
            return services;
        }
        var authentication = services.AddAuthentication(Selector)
            .AddPolicyScheme(Selector, "API key or JWT", policy => policy.ForwardDefaultSelector = http =>
                options.Auth.Jwt.Enabled && ApiKeyAuthenticationHandler.BearerToken(http.Request) is { } token && ApiKeyAuthenticationHandler.LooksLikeJwt(token)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, key =>
            {
                key.Keys = options.Auth.ApiKeys.ToDictionary(p => p.Key, p => ApiKeyAuthenticationOptions.HashOf(p.Value));
                key.SharedOwnerNamespace = options.Auth.SharedOwnerNamespace;
            });
        if (options.Auth.Jwt.Enabled)
            authentication.AddJwtBearer(JwtBearerDefaults.AuthenticationScheme, jwt =>
            {
                var settings = options.Auth.Jwt;
                if (settings.Authority.Length > 0) jwt.Authority = settings.Authority;
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidateIssuer = settings.Issuer.Length > 0,
                    ValidIssuer = settings.Issuer,
                    ValidateAudience = settings.Audience.Length > 0,
                    ValidAudience = settings.Audience,
                    ValidateLifetime = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    NameClaimType = settings.OwnerClaim,
                    IssuerSigningKey = settings.SigningKey.Length > 0 ? new SymmetricSecurityKey(Convert.FromBase64String(settings.SigningKey)) : null,
                };
                jwt.Events = new JwtBearerEvents
                {
                    // A token that names no owner would own nothing and, worse, be treated like Iris without auth.
                    OnTokenValidated = context =>
                    {
                        var owner = context.Principal?.FindFirst(settings.OwnerClaim)?.Value;
                        if (string.IsNullOrWhiteSpace(owner) || context.Principal?.Identity is not ClaimsIdentity identity)
                            context.Fail($"The token carries no '{settings.OwnerClaim}' claim (Auth:Jwt:OwnerClaim), which names the caller that owns its jobs.");
                        else
                            identity.AddClaim(new Claim(OwnerClaimType, Namespaced("jwt", owner, options.Auth.SharedOwnerNamespace)));
                        return Task.CompletedTask;
                    },
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        await ChallengeAsync(context.HttpContext, context.ErrorDescription is { Length: > 0 } description ? description : context.AuthenticateFailure?.Message);
                    },
                };
            });
        services.AddAuthorization(authorization => authorization.FallbackPolicy =
            new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireClaim(OwnerClaimType).Build());
        return services;
    }

    public static WebApplication UseIrisAccess(this WebApplication app, IrisOptions options)
    {
        if (Enabled(options))
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        app.UseRateLimiter();
        return app;
    }

    /// <summary>
    /// The caller's namespaced owner, for job ownership; null only when Iris runs without auth (the authorization
    /// policy turns away any authenticated caller without one before a route runs).
    /// </summary>
    public static string? Owner(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true } && user.FindFirst(OwnerClaimType)?.Value is { Length: > 0 } owner ? owner : null;

    /// <summary><c>key:alice</c> or <c>jwt:alice</c>; the bare name when <c>Auth:SharedOwnerNamespace</c> is true.</summary>
    internal static string Namespaced(string kind, string name, bool shared) => shared ? name : $"{kind}:{name}";

    private static string Caller(HttpContext http) =>
        Owner(http.User) is { } owner ? "caller:" + owner : "address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static bool Exempt(PathString path, IrisOptions options) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/health")
        || path.StartsWithSegments(options.Metrics.Path);

    internal static Task ChallengeAsync(HttpContext http, string? why)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer, ApiKey";
        return WriteProblemAsync(http, StatusCodes.Status401Unauthorized, "Unauthorized",
            http.GetEndpoint()?.Metadata.GetMetadata<ChallengeDetail>()?.Detail
            ?? (why is { Length: > 0 } ? why + " " : "") + $"Send an API key in the {ApiKeyAuthenticationHandler.Header} header (or as a bearer token), or a bearer JWT.");
    }

    private static async Task WriteProblemAsync(HttpContext http, int status, string title, string detail)
    {
        http.Response.StatusCode = status;
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://iris.dev/problems/{title.ToLowerInvariant().Replace(' ', '-')}" },
        });
    }
}

/// <summary>
/// Endpoint metadata: the exact 401 <c>detail</c> a facade's clients test for (the classifier service's
/// "Not authenticated"), instead of Iris's explanation of how to authenticate.
/// </summary>
public sealed record ChallengeDetail(string Detail);
