using StackExchange.Redis;

namespace Iris.Security;

/// <summary>
/// Revoked tokens (<c>Auth:Jwt:RevocationStore=redis</c>): a token is revoked while the key
/// <c>Auth:Jwt:RevocationKeyPrefix + jti</c> exists, whatever its value, as seed 004's auth service writes it on logout
/// (<c>SET jti "" EX 3600</c>). Every check reads Redis: a cached "not revoked" would let a revoked token through.
/// </summary>
public sealed class TokenBlocklist(RedisSecurityStore redis, string keyPrefix) : IAsyncDisposable
{
    /// <exception cref="SecurityStoreUnavailableException">Redis cannot be read; the caller refuses the token (fail closed).</exception>
    public Task<bool> IsRevokedAsync(string jti, CancellationToken cancellationToken) =>
        redis.RunAsync(db => db.KeyExistsAsync(new RedisKey(keyPrefix + jti)), cancellationToken);

    public ValueTask DisposeAsync() => redis.DisposeAsync();
}
