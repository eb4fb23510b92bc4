using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Core.Sources;
using Iris.Core.Storage;
using Iris.Core.Transforms;

namespace Iris.Configuration;

/// <summary>Registers the domain services shared by the server and the CLI commands.</summary>
public static class IrisServices
{
    public static IServiceCollection AddIrisCore(this IServiceCollection services, IrisOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(new ImageDecoder(options.ImageLimits()));
        services.AddSingleton(sp => new ModelCatalog(BuiltInManifests.Load(), options.Models.CacheDirectory, sp.GetService<ILogger<ModelCatalog>>()));
        services.AddSingleton(sp => new ModelDownloader(
            new HttpClient { Timeout = TimeSpan.FromSeconds(options.Models.DownloadTimeoutSeconds) },
            options.Models.DownloadAttempts, sp.GetService<ILogger<ModelDownloader>>()));
        services.AddSingleton(sp => new ModelStore(
            options.Models.CacheDirectory, options.Models.Mirror, sp.GetRequiredService<ModelDownloader>(), sp.GetService<ILogger<ModelStore>>()));
        services.AddSingleton(new OnnxSessionFactory(options.InferenceSettings()));

        // One loader per task the runtime can serve; the manifest's task picks it.
        services.AddSingleton<IModelLoader, YoloxDetectorLoader>();

        services.AddSingleton(sp => new ModelRuntime(
            sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<ModelStore>(), sp.GetServices<IModelLoader>(),
            options.Models.AutoPull, options.Models.VerifyOnLoad, sp.GetService<ILogger<ModelRuntime>>()));

        // Transforms (issue #6): the transformer, uploaded images, the URL API's result cache and source fetcher.
        services.AddSingleton(new ImageTransformer(options.ImageLimits(), options.TransformLimits()));
        services.AddSingleton<IBlobStore>(new LocalDiskBlobStore(options.Storage.Directory));
        services.AddSingleton(new TransformResultCache(options.Transforms.CacheDirectory, options.Transforms.CacheMaxBytes));
        services.AddSingleton(_ => new RemoteImageFetcher(options.RemoteSourcePolicy()));
        return services;
    }
}
