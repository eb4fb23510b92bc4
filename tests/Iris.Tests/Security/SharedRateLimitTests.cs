using System.Net;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Security;

/// <summary>
/// <c>RateLimit:Store=redis</c> with a real Redis: the limit is the cluster's, not each process's, and a Redis outage
/// lets requests through rather than refusing them.
/// </summary>
public sealed class SharedRateLimitTests
{
    [Fact]
    public async Task Two_servers_sharing_redis_together_admit_no_more_than_the_configured_rate()
    {
        // 2 a minute with no extra burst: 2 requests pass at once, the next one 30 s later. Each server alone would admit 2,
        // so together without sharing they would admit 4. Without auth the caller is the client address, the same for both.
        await using var servers = await TwoServers.StartAsync(new Dictionary<string, string>
        {
            ["RateLimit:PermitsPerMinute"] = "2",
            ["RateLimit:Store"] = "redis",
            // The URL form seed 000's REDIS_URL uses.
            ["RateLimit:ConnectionString"] = "redis://" + TestServices.Redis,
            ["RateLimit:KeyPrefix"] = $"ratelimit-{Guid.NewGuid():N}:",
        });
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await (i % 2 == 0 ? servers.FirstClient : servers.SecondClient).GetAsync("/v1/models");
            statuses.Add(response.StatusCode);
            if (response.StatusCode != HttpStatusCode.TooManyRequests) continue;
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
            Assert.Contains("RateLimit:PermitsPerMinute", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString());
        }
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        // The probes are never limited.
        Assert.Equal(HttpStatusCode.OK, (await servers.SecondClient.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task While_redis_cannot_be_reached_requests_are_let_through_and_counted()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["RateLimit:PermitsPerMinute"] = "1",
            ["RateLimit:Store"] = "redis",
            ["RateLimit:ConnectionString"] = $"127.0.0.1:{Jobs.JobCrashSafetyTests.FreePort()}",
            ["Models:LoadOnStartup"] = "false",
        });
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/v1/models")).StatusCode);
        var metrics = await host.Client.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("iris_security_store_failures_total{", StringComparison.Ordinal) && l.Contains("store=\"rate_limit\""));
    }
}
