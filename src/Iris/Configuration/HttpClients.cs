using Iris.Core.Sources;
using Iris.Jobs;

namespace Iris.Configuration;

/// <summary>
/// Every outbound HTTP client Iris uses, named and configured in one place and made by <see cref="IHttpClientFactory"/>:
/// model downloads, the Hugging Face Hub, source images fetched by URL, and job webhooks.
/// </summary>
public static class HttpClients
{
    public const string Models = "models";
    public const string Hub = "hub";
    public const string HubHead = "hub-head";
    public const string RemoteSources = "remote-sources";

    public static IServiceCollection AddIrisHttpClients(this IServiceCollection services, IrisOptions options)
    {
        var download = TimeSpan.FromSeconds(options.Models.DownloadTimeoutSeconds);
        Add(services, Models, download, () => new SocketsHttpHandler());
        Add(services, Hub, download, () => new SocketsHttpHandler { AllowAutoRedirect = true });
        Add(services, HubHead, download, () => new SocketsHttpHandler { AllowAutoRedirect = false });
        // The SSRF defences (address checks where the socket opens, no automatic redirects) are this client's handler.
        var sources = options.RemoteSourcePolicy();
        Add(services, RemoteSources, Timeout.InfiniteTimeSpan, () => RemoteImageFetcher.CreateHandler(sources));
        // Webhooks get the same defences, without redirects at all: a receiver answers where it was asked to.
        var webhooks = new RemoteSourcePolicy(AllowedHosts: [], options.Jobs.WebhookAllowPrivateNetworks, TimeSpan.FromSeconds(10), MaxBytes: 0,
            MaxRedirects: 0, PrivateNetworksOption: "Jobs:WebhookAllowPrivateNetworks");
        Add(services, JobWebhookSender.ClientName, TimeSpan.FromSeconds(10), () => RemoteImageFetcher.CreateHandler(webhooks));
        return services;
    }

    /// <summary>
    /// Some clients live as long as the singleton that holds them, so the handler is never rotated by the factory;
    /// connections are recycled by the handler itself instead, which keeps DNS changes visible. Per-request logging
    /// stays off, as it was before the factory.
    /// </summary>
    private static void Add(IServiceCollection services, string name, TimeSpan timeout, Func<SocketsHttpHandler> handler) =>
        services.AddHttpClient(name, client => client.Timeout = timeout)
            .ConfigurePrimaryHttpMessageHandler(() =>
            {
                var primary = handler();
                primary.PooledConnectionLifetime = TimeSpan.FromMinutes(2);
                return primary;
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
}
