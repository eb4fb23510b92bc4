using Iris.Core.Transforms;

namespace Iris.Tests.Support;

/// <summary>A real server configured for the transform APIs: its own blob store and result cache, URL signing on, loopback sources allowed.</summary>
public sealed class TransformHost : IAsyncLifetime
{
    public const string Key = "943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881";
    public const string Salt = "520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5";

    private readonly TempDirectory _data = new();

    public IrisTestHost Host { get; private set; } = null!;
    public string CacheDirectory => Path.Combine(_data.Path, "cache");
    public static UrlSignature Signer { get; } = UrlSignature.FromHex(Key, Salt);

    public static Dictionary<string, string?> Settings(string dataDirectory, bool allowLoopback = true, long cacheBytes = 50_000_000) => new()
    {
        ["Storage:Directory"] = Path.Combine(dataDirectory, "blobs"),
        ["Transforms:CacheDirectory"] = Path.Combine(dataDirectory, "cache"),
        ["Transforms:CacheMaxBytes"] = cacheBytes.ToString(),
        ["Transforms:SigningKey"] = Key,
        ["Transforms:SigningSalt"] = Salt,
        ["Transforms:MaxBatchItems"] = "6",
        // Batches over the limit run as transform jobs.
        ["Jobs:Database"] = Path.Combine(dataDirectory, "jobs.db"),
        ["Jobs:InputDirectory"] = Path.Combine(dataDirectory, "job-inputs"),
        ["Jobs:Workers"] = "1",
        ["Jobs:PollIntervalMs"] = "50",
        ["Sources:AllowPrivateNetworks"] = allowLoopback ? "true" : "false",
        ["Models:LoadOnStartup"] = "false",
    };

    public async Task InitializeAsync() => Host = await IrisTestHost.StartAsync(Settings(_data.Path));

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>/v1/img/{signature}/{ops}/{source} signed with the test key and salt.</summary>
    public static string SignedUrl(string ops, string source)
    {
        var path = $"/{ops}/{source}";
        return $"/v1/img/{Signer.Sign(path)}{path}";
    }
}
