namespace Iris.Tests.Support;

/// <summary>
/// Two Iris servers with the same settings, as a cluster behind a load balancer runs them: one in this test process
/// (<see cref="IrisTestHost"/>) and one a separate <c>iris serve</c> process (<see cref="IrisDaemon"/>), each with its own
/// models cache and job database, so that all they share is what the settings point both at (e.g. a Redis).
/// </summary>
public sealed class TwoServers : IAsyncDisposable
{
    private readonly TempDirectory _data;

    private TwoServers(IrisTestHost first, IrisDaemon second, HttpClient secondClient, TempDirectory data)
    {
        First = first;
        Second = second;
        SecondClient = secondClient;
        _data = data;
    }

    public IrisTestHost First { get; }
    public IrisDaemon Second { get; }
    public HttpClient FirstClient => First.Client;
    public HttpClient SecondClient { get; }

    /// <summary><paramref name="settings"/> in configuration-key form (<c>RateLimit:Store</c>); models are not loaded at start.</summary>
    public static async Task<TwoServers> StartAsync(IDictionary<string, string> settings)
    {
        var data = new TempDirectory();
        var common = new Dictionary<string, string>(settings) { ["Models:LoadOnStartup"] = "false" };
        var urls = $"http://127.0.0.1:{Jobs.JobCrashSafetyTests.FreePort()}";
        var environment = common.ToDictionary(p => "IRIS__" + p.Key.Replace(":", "__"), p => p.Value);
        environment["IRIS__Server__Urls"] = urls;
        environment["IRIS__Jobs__Database"] = data.File("jobs.db");
        environment["IRIS__Jobs__InputDirectory"] = data.File("inputs");
        environment["IRIS__Models__CacheDirectory"] = data.File("models");
        environment["IRIS__Models__Mirror"] = TestPaths.ModelMirror;
        environment["IRIS__Log__Format"] = "text";
        environment["IRIS__Log__Level"] = "Information";
        var second = IrisDaemon.Start(["serve"], environment);
        IrisTestHost? first = null;
        try
        {
            first = await IrisTestHost.StartAsync(common.ToDictionary(p => p.Key, p => (string?)p.Value));
            await second.WaitForLineAsync(l => l.Contains("Now listening", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
            return new TwoServers(first, second, new HttpClient { BaseAddress = new Uri(urls), Timeout = TimeSpan.FromSeconds(60) }, data);
        }
        catch
        {
            if (first is not null) await first.DisposeAsync();
            await second.DisposeAsync();
            data.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        SecondClient.Dispose();
        await Second.DisposeAsync();
        await First.DisposeAsync();
        _data.Dispose();
    }
}
