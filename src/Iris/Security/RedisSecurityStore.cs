using Iris.Core.Telemetry;
using StackExchange.Redis;

namespace Iris.Security;

/// <summary>A security store in Redis could not be read; the message says which and what the request gets instead.</summary>
public sealed class SecurityStoreUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The Redis connection of one security store (rate limits or the token blocklist), opened on first use. A command that
/// fails is counted in <c>iris_security_store_failures_total{store}</c> and turned into
/// <see cref="SecurityStoreUnavailableException"/>; the warning is logged once per outage, not once per request, and the
/// recovery once when Redis answers again. Commands fail fast while the connection is down (no backlog), so a request
/// waits at most the connection string's <c>asyncTimeout</c> for a Redis that hangs, not for one that refuses.
/// </summary>
public sealed class RedisSecurityStore(string connectionString, string store, string consequence, ILogger logger) : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() => ConnectionMultiplexer.ConnectAsync(Settings(connectionString)));
    private int _failing;

    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> command, CancellationToken cancellationToken)
    {
        T result;
        try
        {
            result = await command((await _connection.Value.WaitAsync(cancellationToken)).GetDatabase()).WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            IrisMetrics.SecurityStoreFailures.Add(1, new KeyValuePair<string, object?>("store", store));
            if (Interlocked.Exchange(ref _failing, 1) == 0)
                logger.LogWarning(e, "The {Store:l} store in Redis cannot be read; until it can, {Consequence:l}.", store, consequence);
            // The message reaches no client: Redis's own names hosts and keys.
            throw new SecurityStoreUnavailableException($"The {store.Replace('_', ' ')} store (Redis) cannot be read.", e);
        }
        if (Interlocked.Exchange(ref _failing, 0) == 1)
            logger.LogInformation("The {Store:l} store in Redis answers again.", store);
        return result;
    }

    private static ConfigurationOptions Settings(string connectionString)
    {
        var settings = Uri.TryCreate(connectionString, UriKind.Absolute, out var url) && url.Scheme is "redis" or "rediss"
            ? FromUrl(url)
            : ConfigurationOptions.Parse(connectionString);
        // Keep reconnecting in the background instead of failing start-up, and refuse commands at once while disconnected.
        settings.AbortOnConnectFail = false;
        settings.BacklogPolicy = BacklogPolicy.FailFast;
        return settings;
    }

    /// <summary>
    /// <c>redis://[user:password@]host[:port][/db]</c> (<c>rediss://</c> for TLS), the URL form Python services configure
    /// (seed 000's <c>REDIS_URL</c>), which StackExchange.Redis does not read itself.
    /// </summary>
    private static ConfigurationOptions FromUrl(Uri url)
    {
        var settings = new ConfigurationOptions { Ssl = url.Scheme == "rediss" };
        settings.EndPoints.Add(url.Host, url.Port > 0 ? url.Port : 6379);
        if (url.UserInfo.Length > 0)
        {
            var credentials = url.UserInfo.Split(':', 2);
            if (credentials[0].Length > 0) settings.User = Uri.UnescapeDataString(credentials[0]);
            if (credentials.Length > 1) settings.Password = Uri.UnescapeDataString(credentials[1]);
        }
        if (int.TryParse(url.AbsolutePath.Trim('/'), out var database)) settings.DefaultDatabase = database;
        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
            await (await _connection.Value).DisposeAsync();
    }
}
