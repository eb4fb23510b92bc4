using System.Threading.RateLimiting;
using Iris.Configuration;
using StackExchange.Redis;

namespace Iris.Security;

/// <summary>
/// <c>RateLimit:Store=redis</c>: each caller's limit is shared by every Iris process using the same Redis. The algorithm
/// is GCRA (the generic cell rate algorithm): one key per caller holding a single timestamp, the "theoretical arrival
/// time" of its next request, advanced by an atomic Lua script that reads Redis's own clock. It keeps the memory store's
/// limit (Burst at once, PermitsPerMinute a minute) with the minute's permits evenly spaced rather than refilled at once,
/// costs one small key and one round trip per request whatever the rate, says exactly when the next request will pass
/// (Retry-After), and does not depend on the Iris hosts' clocks agreeing. A sliding-window log would need a sorted set entry per request,
/// and a fixed window lets through twice the rate across a window edge.
/// While Redis cannot be read, requests are admitted (fail open): a limit protects capacity, and refusing every caller
/// because Redis is down would be an outage of its own. <see cref="RedisSecurityStore"/> logs and counts it.
/// </summary>
public sealed class RedisRateLimiter(RateLimitOptions limit, Func<HttpContext, string?> partition, RedisSecurityStore redis) : PartitionedRateLimiter<HttpContext>
{
    // KEYS[1]: the caller's key. ARGV[1]: microseconds between permits. ARGV[2]: permits that may be taken at once.
    // Returns {1, 0} when admitted, {0, microseconds until the next permit} when not.
    private const string Gcra = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local interval = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local tat = tonumber(redis.call('GET', KEYS[1]))
        if not tat or tat < now then tat = now end
        local next_tat = tat + interval
        local allowed_at = next_tat - interval * burst
        if allowed_at > now then
          return {0, allowed_at - now}
        end
        redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - now) / 1000))
        return {1, 0}
        """;

    private static readonly RateLimitLease Admitted = new Lease(true, null);
    private static readonly RateLimitLease Undecided = new Lease(false, null);

    private readonly RedisValue[] _arguments =
        [60_000_000L / limit.PermitsPerMinute, limit.Burst > 0 ? limit.Burst : limit.PermitsPerMinute];

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    // The answer lives in Redis and cannot be given synchronously; a lease that is not acquired here makes the
    // rate-limiting middleware ask AcquireAsync, as it does for a queueing limiter.
    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) =>
        permitCount == 0 || partition(resource) is null ? Admitted : Undecided;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount == 0 || partition(resource) is not { } caller) return Admitted;
        try
        {
            var answer = (RedisResult[])(await redis.RunAsync(db => db.ScriptEvaluateAsync(Gcra, [new RedisKey(limit.KeyPrefix + caller)], _arguments), cancellationToken))!;
            return (long)answer[0] == 1 ? Admitted : new Lease(false, TimeSpan.FromMicroseconds((long)answer[1]));
        }
        catch (SecurityStoreUnavailableException)
        {
            return Admitted;
        }
    }

    protected override async ValueTask DisposeAsyncCore() => await redis.DisposeAsync();

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name ? wait : null;
            return metadata is not null;
        }
    }
}
