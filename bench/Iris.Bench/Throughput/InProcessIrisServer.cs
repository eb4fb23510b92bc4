using System.Net;
using Iris.Configuration;
using Iris.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Bench.Throughput;

/// <summary>
/// The real Iris server — the same <see cref="IrisServer.Build"/> as <c>iris serve</c>, Kestrel on a loopback
/// port — started inside this process and held until its models report ready.
/// </summary>
public sealed class InProcessIrisServer : IAsyncDisposable
{
    private static readonly TimeSpan ReadinessTimeout = TimeSpan.FromMinutes(2);

    private readonly WebApplication _app;

    /// <summary>The model cache this server was given to itself, deleted when it stops; null when the caller owns the cache.</summary>
    private DirectoryInfo? _ownCache;

    private InProcessIrisServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Starts the server on the address in Server:Urls (port 0 picks a free one) and waits for <c>/readyz</c>.</summary>
    public static async Task<InProcessIrisServer> StartAsync(IrisOptions options, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var app = IrisServer.Build(options, configuration);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var server = new InProcessIrisServer(app, new Uri(address));
        try
        {
            await server.WaitUntilReadyAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts the server with the default configuration (<see cref="ThroughputCommand.Overrides"/>), its models pulled from the
    /// shared mirror into a fresh cache, as a new installation would; the cache is deleted when the server is disposed.
    /// </summary>
    public static async Task<InProcessIrisServer> StartWithFreshCacheAsync(CancellationToken cancellationToken)
    {
        var cache = Directory.CreateTempSubdirectory("iris-bench-models-");
        try
        {
            var configuration = IrisConfiguration.Build(null, ThroughputCommand.Overrides(SharedFolder.ModelsMirror, cache.FullName));
            var server = await StartAsync(IrisConfiguration.Load(configuration), configuration, cancellationToken);
            server._ownCache = cache;
            return server;
        }
        catch
        {
            cache.Delete(recursive: true);
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ReadinessTimeout);
        string last = "no answer yet";
        try
        {
            while (true)
            {
                using var response = await http.GetAsync("/readyz", deadline.Token);
                if (response.StatusCode == HttpStatusCode.OK) return;
                last = await response.Content.ReadAsStringAsync(deadline.Token);
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Iris did not become ready within {ReadinessTimeout.TotalSeconds:F0} s; /readyz said: {last}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _ownCache?.Delete(recursive: true);
    }
}
