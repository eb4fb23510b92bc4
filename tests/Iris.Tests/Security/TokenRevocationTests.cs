using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Iris.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;

namespace Iris.Tests.Security;

/// <summary>
/// Seed 004's tokens checked against its Redis blocklist (<c>Auth:Jwt:RevocationStore=redis</c>), with a real Redis:
/// a logout (the jti written to Redis) is honoured by every Iris server on the very next request.
/// </summary>
public sealed class TokenRevocationTests
{
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    /// <summary>
    /// A token as seed 004's auth service mints it (PyJWT, HS256): the caller inside a <c>user</c> object, a <c>jti</c>, a
    /// <c>refresh</c> flag, an <c>exp</c>; no <c>sub</c>, <c>iss</c> or <c>aud</c>.
    /// </summary>
    internal static string SeedToken(string jti, bool refresh = false, string? userUid = null) =>
        new JsonWebTokenHandler().CreateToken(
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["user"] = new { user_uid = userUid ?? Guid.NewGuid().ToString() },
                ["exp"] = DateTimeOffset.UtcNow.AddMinutes(60).ToUnixTimeSeconds(),
                ["jti"] = jti,
                ["refresh"] = refresh,
            }),
            new SigningCredentials(new SymmetricSecurityKey(Secret), SecurityAlgorithms.HmacSha256));

    private static Dictionary<string, string> Settings(string redis, string keyPrefix = "") => new()
    {
        ["Auth:Jwt:SigningKey"] = Convert.ToBase64String(Secret),
        ["Auth:Jwt:OwnerClaim"] = "user.user_uid",
        ["Auth:Jwt:RevocationStore"] = "redis",
        ["Auth:Jwt:RevocationConnectionString"] = redis,
        ["Auth:Jwt:RevocationKeyPrefix"] = keyPrefix,
        ["Auth:ApiKeys:alice"] = "alice-key-0123456789",
    };

    private static async Task<HttpResponseMessage> ModelsAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_jti_written_to_the_blocklist_is_refused_on_the_next_request_by_both_servers()
    {
        // The seed's convention: the bare jti is the key (no prefix), SET jti "" EX 3600 on logout.
        await using var servers = await TwoServers.StartAsync(Settings(TestServices.Redis));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        var loggedOut = Guid.NewGuid().ToString();
        var stillIn = Guid.NewGuid().ToString();
        var (loggedOutToken, stillInToken) = (SeedToken(loggedOut), SeedToken(stillIn));
        foreach (var client in new[] { servers.FirstClient, servers.SecondClient })
        {
            Assert.Equal(HttpStatusCode.OK, (await ModelsAsync(client, loggedOutToken)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await ModelsAsync(client, stillInToken)).StatusCode);
            // The refresh token the same login returns is not an access token.
            await AssertProblemAsync(await ModelsAsync(client, SeedToken(Guid.NewGuid().ToString(), refresh: true)), HttpStatusCode.Unauthorized, "refresh token");
        }

        await redis.GetDatabase().StringSetAsync(loggedOut, "", TimeSpan.FromSeconds(3600));

        foreach (var client in new[] { servers.SecondClient, servers.FirstClient })
        {
            await AssertProblemAsync(await ModelsAsync(client, loggedOutToken), HttpStatusCode.Unauthorized, "revoked");
            Assert.Equal(HttpStatusCode.OK, (await ModelsAsync(client, stillInToken)).StatusCode);
        }
    }

    [Fact]
    public async Task With_a_key_prefix_only_the_prefixed_jti_revokes_the_token()
    {
        var prefix = $"blocklist-{Guid.NewGuid():N}:";
        await using var host = await IrisTestHost.StartAsync(Settings(TestServices.Redis, prefix).ToDictionary(p => p.Key, p => (string?)p.Value));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        var jti = Guid.NewGuid().ToString();
        var token = SeedToken(jti);

        await redis.GetDatabase().StringSetAsync(jti, "", TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, (await ModelsAsync(host.Client, token)).StatusCode);

        await redis.GetDatabase().StringSetAsync(prefix + jti, "", TimeSpan.FromSeconds(60));
        await AssertProblemAsync(await ModelsAsync(host.Client, token), HttpStatusCode.Unauthorized, "revoked");
    }

    [Fact]
    public async Task A_token_without_a_jti_cannot_be_revoked_and_is_refused()
    {
        await using var host = await IrisTestHost.StartAsync(Settings(TestServices.Redis).ToDictionary(p => p.Key, p => (string?)p.Value));
        var noJti = new JsonWebTokenHandler().CreateToken(
            JsonSerializer.Serialize(new { user = new { user_uid = "u1" }, exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds() }),
            new SigningCredentials(new SymmetricSecurityKey(Secret), SecurityAlgorithms.HmacSha256));
        await AssertProblemAsync(await ModelsAsync(host.Client, noJti), HttpStatusCode.Unauthorized, "'jti'");
    }

    [Fact]
    public async Task While_the_blocklist_cannot_be_read_tokens_get_503_and_once_it_is_back_revoked_tokens_get_401()
    {
        var port = Jobs.JobCrashSafetyTests.FreePort();
        var address = $"127.0.0.1:{port}";
        await using var host = await IrisTestHost.StartAsync(Settings(address).ToDictionary(p => p.Key, p => (string?)p.Value));
        var jti = Guid.NewGuid().ToString();
        var token = SeedToken(jti);

        using var refused = await ModelsAsync(host.Client, token);
        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "Auth:Jwt:RevocationStore");
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.DoesNotContain(address, await refused.Content.ReadAsStringAsync());
        // A bad token is still a 401, and API keys do not depend on the blocklist.
        await AssertProblemAsync(await ModelsAsync(host.Client, "not.a.token"), HttpStatusCode.Unauthorized, "");
        using var withKey = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        withKey.Headers.Add("X-Api-Key", "alice-key-0123456789");
        Assert.Equal(HttpStatusCode.OK, (await host.Client.SendAsync(withKey)).StatusCode);
        var metrics = await host.Client.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("iris_security_store_failures_total{", StringComparison.Ordinal) && l.Contains("store=\"revocation\""));

        // Redis comes up where Iris expects it: Iris reconnects by itself and checks tokens again.
        using var redisServer = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            { RedirectStandardOutput = true })!;
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            HttpStatusCode status;
            while ((status = (await ModelsAsync(host.Client, token)).StatusCode) == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
                await Task.Delay(200);
            Assert.Equal(HttpStatusCode.OK, status);
            await using var redis = await ConnectionMultiplexer.ConnectAsync(address);
            await redis.GetDatabase().StringSetAsync(jti, "", TimeSpan.FromSeconds(60));
            await AssertProblemAsync(await ModelsAsync(host.Client, token), HttpStatusCode.Unauthorized, "revoked");
        }
        finally
        {
            redisServer.Kill();
            await redisServer.WaitForExitAsync();
        }
    }
}
