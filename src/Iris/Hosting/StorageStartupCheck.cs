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
}
