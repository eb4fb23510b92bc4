using Iris.Configuration;
using Iris.Core.Storage;

namespace Iris.Hosting;

/// <summary>
/// Fails start-up (exit code 2) when the S3 bucket cannot be used — unreachable endpoint, missing bucket, refused
/// credentials — with a message naming the option to fix, instead of failing the first upload or job.
/// </summary>
public sealed class StorageStartupCheck(S3ObjectStore bucket, ILogger<StorageStartupCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await bucket.CheckAsync(cancellationToken);
        }
        catch (StorageUnavailableException e)
        {
            throw new InvalidConfigurationException([e.Message]);
        }
        logger.LogInformation("Storing images and job inputs in S3 {Bucket} under prefix '{Prefix}'", bucket.Settings.Describe(), bucket.Settings.Prefix);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The local directories this configuration writes to, by the option that places each: stored images and job
    /// inputs (Storage:Provider=local), the SQLite job database, and, for a server (not a worker), the transform result cache.
    /// </summary>
    public static IEnumerable<(string Store, string Option, string Directory)> LocalDirectories(IrisOptions options, bool servesHttp = true)
    {
        if (!options.Storage.UsesS3())
        {
            yield return ("images", "Storage:Directory", options.Storage.Directory);
            yield return ("job-inputs", "Jobs:InputDirectory", options.Jobs.InputDirectory);
        }
        if (options.Jobs.Store.Equals("sqlite", StringComparison.OrdinalIgnoreCase) || options.Jobs.Queue.Equals("embedded", StringComparison.OrdinalIgnoreCase))
            yield return ("job-database", "Jobs:Database", Path.GetDirectoryName(Path.GetFullPath(options.Jobs.Database))!);
        if (servesHttp && options.Transforms.CacheMaxBytes > 0)
            yield return ("transform-cache", "Transforms:CacheDirectory", options.Transforms.CacheDirectory);
    }

    /// <summary>
    /// Fails start-up (exit code 2) naming each option whose directory cannot be written (a read-only mount, missing
    /// permissions), before any store opens it and dies with an unhandled IOException.
    /// </summary>
    public static void RequireWritableDirectories(IrisOptions options, bool servesHttp)
    {
        var errors = LocalDirectories(options, servesHttp)
            .Select(d => (d.Option, d.Directory, Why: LocalDirectoryProbe.WhyNotWritable(d.Directory)))
            .Where(d => d.Why is not null)
            .Select(d => $"{d.Option} ({Path.GetFullPath(d.Directory)}) is not writable: {d.Why} Point {d.Option} at a writable directory " +
                $"(IRIS__{d.Option.Replace(":", "__")}) or make it writable.")
            .ToList();
        if (errors.Count > 0) throw new InvalidConfigurationException(errors);
    }
}
