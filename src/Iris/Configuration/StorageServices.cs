using Iris.Core.Jobs;
using Iris.Core.Storage;
using Iris.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Iris.Configuration;

/// <summary>
/// Registers where stored images and job inputs live, chosen by Storage:Provider: on local disk, or both in one
/// S3-compatible bucket (one client; images under <c>images/</c>, job inputs under <c>job-inputs/</c>).
/// </summary>
public static class StorageServices
{
    public static IServiceCollection AddIrisImageStore(this IServiceCollection services, IrisOptions options)
    {
        if (!options.Storage.UsesS3())
            return services.AddSingleton<IBlobStore>(new LocalDiskBlobStore(options.Storage.Directory));
        return services.AddS3Bucket(options).AddSingleton<IBlobStore>(sp => new S3BlobStore(sp.GetRequiredService<S3ObjectStore>()));
    }

    public static IServiceCollection AddIrisJobInputStore(this IServiceCollection services, IrisOptions options)
    {
        if (!options.Storage.UsesS3())
            return services.AddSingleton<IJobBlobStore>(new LocalDiskJobBlobStore(options.Jobs.InputDirectory));
        return services.AddS3Bucket(options).AddSingleton<IJobBlobStore>(sp => new S3JobBlobStore(sp.GetRequiredService<S3ObjectStore>()));
    }

    private static IServiceCollection AddS3Bucket(this IServiceCollection services, IrisOptions options)
    {
        services.TryAddSingleton(_ => new S3ObjectStore(options.Storage.S3Settings()));
        // Hosts (serve, worker) check the bucket before anything else starts; CLI commands that never run a host do not.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StorageStartupCheck>());
        return services;
    }
}
