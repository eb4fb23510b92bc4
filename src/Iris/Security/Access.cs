using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Iris.Configuration;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.IdentityModel.Tokens;

namespace Iris.Security;

/// <summary>
/// Who may call Iris and how often. Off by default (the quick start and a trusted network need none). With API keys
/// (<c>Auth:ApiKeys</c>) or JWT validation (<c>Auth:Jwt</c>) configured, every route needs a caller, except the health
/// probes, <c>/metrics</c> and the API reference; the caller's name owns the jobs it submits and sees only those.
/// The owner is namespaced by the kind of credential (<c>key:alice</c>, <c>jwt:alice</c>), so a token whose subject
/// happens to equal an API key's name is a different caller, unless <c>Auth:SharedOwnerNamespace</c> says they are one.
/// <c>RateLimit:PermitsPerMinute</c> gives each caller (or each client address, without auth) a token bucket, per process
/// or shared through Redis (<see cref="RedisRateLimiter"/>). Tokens must be access tokens (not refresh tokens) and, with
/// <c>Auth:Jwt:RevocationStore=redis</c>, not revoked (<see cref="TokenBlocklist"/>).
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
        string? Limited(HttpContext http) =>
            options.RateLimit.PermitsPerMinute <= 0 || Exempt(http.Request.Path, options) ? null : Caller(http);
        var sharedLimits = options.RateLimit.PermitsPerMinute > 0 && options.RateLimit.Store.Equals("redis", StringComparison.OrdinalIgnoreCase);
        if (sharedLimits)
        {
            services.AddSingleton(sp => new RedisRateLimiter(options.RateLimit, Limited, new RedisSecurityStore(
                options.RateLimit.ConnectionString is { Length: > 0 } own ? own : options.Jobs.Redis.ConnectionString,
                "rate_limit", "requests are not rate-limited", sp.GetRequiredService<ILogger<RedisRateLimiter>>())));
            services.AddOptions<RateLimiterOptions>().Configure<RedisRateLimiter>((limiter, shared) => limiter.GlobalLimiter = shared);
        }
        services.AddRateLimiter(limiter =>
        {
            if (!sharedLimits)
                limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                    Limited(http) is not { } caller
                        ? RateLimitPartition.GetNoLimiter("exempt")
                        : RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
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
        var revocation = options.Auth.Jwt.Enabled && options.Auth.Jwt.RevocationStore.Equals("redis", StringComparison.OrdinalIgnoreCase);
        if (revocation)
            services.AddSingleton(sp => new TokenBlocklist(new RedisSecurityStore(
                options.Auth.Jwt.RevocationConnectionString is { Length: > 0 } own ? own : options.Jobs.Redis.ConnectionString,
                "revocation", "requests with a token are refused with 503", sp.GetRequiredService<ILogger<TokenBlocklist>>()),
                options.Auth.Jwt.RevocationKeyPrefix));
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
                    OnTokenValidated = async context =>
                    {
                        if (await RefusalAsync(context.Principal, settings, context.HttpContext) is { } refusal)
                            context.Fail(refusal);
                        else if (context.Principal?.Identity is ClaimsIdentity identity)
                            identity.AddClaim(new Claim(OwnerClaimType, Namespaced("jwt", ClaimValues(context.Principal, settings.OwnerClaim).First(v => !string.IsNullOrWhiteSpace(v)), options.Auth.SharedOwnerNamespace)));
                    },
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        if (context.AuthenticateFailure is SecurityStoreUnavailableException)
                            await RevocationUnavailableAsync(context.HttpContext);
                        else
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
        // The limiter runs between the two: after authentication, so a caller's requests count against its own bucket;
        // before authorization, so requests with a wrong key, which it answers 401, count too (against their address).
        if (Enabled(options)) app.UseAuthentication();
        app.UseRateLimiter();
        if (Enabled(options)) app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// The caller's namespaced owner, for job ownership; null only when Iris runs without auth (the authorization
    /// policy turns away any authenticated caller without one before a route runs).
    /// </summary>
    public static string? Owner(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true } && user.FindFirst(OwnerClaimType)?.Value is { Length: > 0 } owner ? owner : null;

    /// <summary>
    /// Why a token whose signature and lifetime are valid is still refused, or null: it names no owner (it would own
    /// nothing and, worse, be treated like Iris without auth), it is a refresh token, or its <c>jti</c> is revoked.
    /// Redis being unreadable is a <see cref="SecurityStoreUnavailableException"/>, which the challenge turns into 503.
    /// </summary>
    private static async Task<Exception?> RefusalAsync(ClaimsPrincipal? principal, JwtOptions settings, HttpContext http)
    {
        if (principal is null || !ClaimValues(principal, settings.OwnerClaim).Any(v => !string.IsNullOrWhiteSpace(v)))
            return new SecurityTokenValidationException($"The token carries no '{settings.OwnerClaim}' claim (Auth:Jwt:OwnerClaim), which names the caller that owns its jobs.");
        foreach (var (claim, value) in settings.RefreshTokenMarkers)
            if (ClaimValues(principal, claim).Any(v => v.Equals(value, StringComparison.OrdinalIgnoreCase)))
                return new SecurityTokenValidationException($"The token is a refresh token ({claim}={value}, Auth:Jwt:RefreshTokenClaims); send an access token.");
        if (http.RequestServices.GetService<TokenBlocklist>() is not { } blocklist)
            return null;
        if (principal.FindFirst("jti")?.Value is not { Length: > 0 } jti)
            return new SecurityTokenValidationException("The token carries no 'jti' claim, so it could not be revoked (Auth:Jwt:RevocationStore=redis refuses such tokens).");
        try
        {
            return await blocklist.IsRevokedAsync(jti, http.RequestAborted) ? new SecurityTokenValidationException("The token has been revoked.") : null;
        }
        catch (SecurityStoreUnavailableException e)
        {
            return e;
        }
    }

    /// <summary>
    /// The values of a claim; a dotted path (<c>user.user_uid</c>) reads inside a claim holding a JSON object, since
    /// some token issuers keep the caller's id there.
    /// </summary>
    private static List<string> ClaimValues(ClaimsPrincipal principal, string path)
    {
        var direct = principal.FindAll(path).Select(c => c.Value).ToList();
        var dot = path.IndexOf('.');
        if (direct.Count > 0 || dot <= 0) return direct;
        var segments = path[(dot + 1)..].Split('.');
        return principal.FindAll(path[..dot]).Select(c => ValueInside(c.Value, segments)).OfType<string>().ToList();
    }

    /// <summary>The value at <paramref name="segments"/> inside a JSON object, or null if there is none or it is not JSON.</summary>
    private static string? ValueInside(string json, string[] segments)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var element = document.RootElement;
            foreach (var segment in segments)
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element))
                    return null;
            return element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary><c>key:alice</c> or <c>jwt:alice</c>; the bare name when <c>Auth:SharedOwnerNamespace</c> is true.</summary>
    internal static string Namespaced(string kind, string name, bool shared) => shared ? name : $"{kind}:{name}";

    private static string Caller(HttpContext http) =>
        Owner(http.User) is { } owner ? "caller:" + owner : "address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static bool Exempt(PathString path, IrisOptions options) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/health")
        || (options.Metrics.Enabled && options.Metrics.Path.Length > 1 && path.StartsWithSegments(options.Metrics.Path));

    internal static Task ChallengeAsync(HttpContext http, string? why)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer, ApiKey";
        return WriteProblemAsync(http, StatusCodes.Status401Unauthorized, "Unauthorized",
            http.GetEndpoint()?.Metadata.GetMetadata<ChallengeDetail>()?.Detail
            ?? (why is { Length: > 0 } ? why + " " : "") + $"Send an API key in the {ApiKeyAuthenticationHandler.Header} header (or as a bearer token), or a bearer JWT.");
    }

    /// <summary>Fail closed: a token that cannot be checked against the blocklist might be revoked.</summary>
    private static Task RevocationUnavailableAsync(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "5";
        return WriteProblemAsync(http, StatusCodes.Status503ServiceUnavailable, "Service unavailable",
            "Tokens cannot be checked for revocation right now (Auth:Jwt:RevocationStore=redis), so none is accepted; retry shortly.");
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
