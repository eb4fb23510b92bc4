using Iris.Configuration;
using Iris.Core.Models;
using Iris.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Support;

/// <summary>The real Iris server on a free loopback port, with its own model cache pulled from the shared mirror.</summary>
public sealed class IrisTestHost : IAsyncDisposable
{
    private readonly TempDirectory _cache;

    private IrisTestHost(WebApplication app, Uri address, TempDirectory cache)
    {
        App = app;
        Address = address;
        _cache = cache;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public WebApplication App { get; }
    public Uri Address { get; }
    public HttpClient Client { get; }
    public string CacheDirectory => _cache.Path;

    public static async Task<IrisTestHost> StartAsync(IDictionary<string, string?>? settings = null, bool withMirror = true,
        Action<IServiceCollection>? replaceServices = null)
    {
        var cache = new TempDirectory();
        var values = new Dictionary<string, string?>
        {
            ["Server:Urls"] = "http://127.0.0.1:0",
            ["Models:CacheDirectory"] = cache.Path,
            ["Models:Mirror"] = withMirror ? TestPaths.ModelMirror : null,
            // Tests load what they use; the default (auto: every task's default model) is HealthApiTests' to check.
            ["Models:Enabled"] = "yolox-nano",
            ["Log:Level"] = "Warning",
            ["Jobs:Database"] = cache.File("jobs.db"),
            ["Jobs:InputDirectory"] = cache.File("job-inputs"),
            ["Library:IndexDatabase"] = cache.File("vectors.db"),
        };
        foreach (var pair in settings ?? new Dictionary<string, string?>())
            values[pair.Key] = pair.Value;
        var configuration = IrisConfiguration.Build(overrides: values);
        var options = IrisConfiguration.Load(configuration);
        var app = IrisServer.Build(options, configuration, replaceServices);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new IrisTestHost(app, new Uri(address), cache);
    }

    /// <summary>Waits until /readyz answers 200 (models load in the background after start-up).</summary>
    public async Task WaitUntilReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            using var response = await Client.GetAsync("/readyz");
            if (response.IsSuccessStatusCode) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("Iris did not become ready: " + await Client.GetStringAsync("/health"));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _cache.Dispose();
    }
}

/// <summary>One ready server shared by the tests of a class.</summary>
public sealed class ReadyIrisHost : IAsyncLifetime
{
    public IrisTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await IrisTestHost.StartAsync();
        await Host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
