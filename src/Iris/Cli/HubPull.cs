using Iris.Configuration;
using Iris.Core.Models;

namespace Iris.Cli;

/// <summary><c>iris models pull hf:OWNER/NAME[@revision]</c>: a Hub repository into the cache, with a generated manifest.</summary>
public static class HubPull
{
    public static async Task<bool> RunAsync(IrisOptions options, string text, string? name, IReadOnlyList<string> patterns, bool quantized, bool force,
        CancellationToken cancellationToken)
    {
        HubReference reference;
        try
        {
            reference = HubReference.Parse(text);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return false;
        }
        var modelName = name ?? reference.DefaultModelName;
        await using var services = new ServiceCollection().AddIrisHttpClients(options).BuildServiceProvider();
        using var client = Client(options, services);
        try
        {
            var result = await client.PullAsync(reference, modelName, patterns, quantized, force, new Progress<string>(Console.WriteLine), cancellationToken);
            Console.WriteLine($"{modelName}: {reference.Repository}@{result.Commit[..Math.Min(12, result.Commit.Length)]} installed in {result.Directory} " +
                $"as a '{result.Manifest.Task}' model ({result.Manifest.Files.Count} files, {result.Manifest.Files.Sum(f => f.Bytes ?? 0) / 1_048_576.0:F1} MiB)");
            return true;
        }
        catch (Exception e) when (e is ModelPullException or InvalidModelManifestException or HttpRequestException or IOException)
        {
            Console.Error.WriteLine($"{text}: {e.Message}");
            return false;
        }
    }

    /// <summary><c>iris models pull NAME</c> of a catalog model pinned to a Hub commit (its manifest's <c>hub</c> section).</summary>
    public static async Task PinnedAsync(IrisOptions options, ModelManifest manifest, HubPin pin, bool force, CancellationToken cancellationToken)
    {
        await using var services = new ServiceCollection().AddIrisHttpClients(options).BuildServiceProvider();
        using var client = Client(options, services);
        await client.PullPinnedAsync(manifest, pin, force, new Progress<string>(Console.WriteLine), cancellationToken);
    }

    private static HubClient Client(IrisOptions options, IServiceProvider services)
    {
        var clients = services.GetRequiredService<IHttpClientFactory>();
        return new HubClient(new Uri(options.Models.HubEndpoint), options.Models.HubToken, options.Models.CacheDirectory,
            options.Models.DownloadAttempts, clients.CreateClient(HttpClients.Hub), clients.CreateClient(HttpClients.HubHead));
    }
}
