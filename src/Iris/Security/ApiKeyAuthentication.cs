using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Iris.Security;

/// <summary>
/// API keys: <c>X-Api-Key: KEY</c>, <c>Authorization: Bearer KEY</c> (a key is not a JWT), or the <c>api_key</c> form
/// field DeepStack clients send. Each configured key names its owner (<c>Auth:ApiKeys:OWNER = KEY</c>), who becomes the
/// caller's identity, and so the owner of the jobs it submits. Keys are compared by their SHA-256, in constant time.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<ApiKeyAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = await PresentedKeyAsync(Request);
        if (key is null) return AuthenticateResult.NoResult();
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        foreach (var (owner, expected) in Options.Keys)
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
                return AuthenticateResult.Success(new AuthenticationTicket(
                    new ClaimsPrincipal(new ClaimsIdentity(
                        [new Claim(ClaimTypes.Name, owner), new Claim(Access.OwnerClaimType, Access.Namespaced("key", owner, Options.SharedOwnerNamespace))],
                        SchemeName)), SchemeName));
        return AuthenticateResult.Fail("The API key is not valid.");
    }

    /// <summary>A problem+json that says how to authenticate, rather than an empty 401.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await Access.ChallengeAsync(Context, result.Failure?.Message ?? "The request carries no API key or token.");
    }

    /// <summary>The key a request carries, or null.</summary>
    internal static async Task<string?> PresentedKeyAsync(HttpRequest request)
    {
        if (request.Headers[Header].ToString() is { Length: > 0 } header) return header;
        if (BearerToken(request) is { } bearer && !LooksLikeJwt(bearer)) return bearer;
        // DeepStack clients put the key in the multipart form; reading it here buffers it for the endpoint as well.
        if (request.HasFormContentType && request.Path.StartsWithSegments("/v1/vision"))
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync();
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                // A form that cannot be read carries no key; with a key in a header, the endpoint reports the bad form.
                return null;
            }
            if (form["api_key"].ToString() is { Length: > 0 } field) return field;
        }
        return null;
    }

    internal static string? BearerToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    internal static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2;
}

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>Owner → SHA-256 of the key.</summary>
    public IReadOnlyDictionary<string, byte[]> Keys { get; set; } = new Dictionary<string, byte[]>();

    /// <summary>Auth:SharedOwnerNamespace: owners are bare names, shared with JWT subjects.</summary>
    public bool SharedOwnerNamespace { get; set; }

    /// <summary>
    /// The configured value of a key: the key itself, or <c>sha256:HEX</c> so that the configuration never holds it.
    /// </summary>
    public static byte[] HashOf(string configured) =>
        configured.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)
            ? Convert.FromHexString(configured["sha256:".Length..])
            : SHA256.HashData(Encoding.UTF8.GetBytes(configured));
}
