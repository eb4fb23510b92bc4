using Iris.Analysis;
using Iris.Core.Analysis;
using Iris.Core.Classification;
using Iris.Core.Detection;
using Iris.Core.Faces;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Inspection;
using Iris.Core.Models;
using Iris.Core.Ocr;
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
        // One budget of decoded pixels for the whole process: every decode and every transform takes from it.
        var admission = options.CreateDecodeAdmission();
        services.AddSingleton(admission);
        services.AddSingleton(new ImageDecoder(options.ImageLimits(), admission));
        services.AddSingleton(sp => new ModelCatalog(BuiltInManifests.Load(), options.Models.CacheDirectory, sp.GetService<ILogger<ModelCatalog>>()));
        services.AddIrisHttpClients(options);
        services.AddSingleton(sp => new ModelDownloader(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClients.Models),
            options.Models.DownloadAttempts, sp.GetService<ILogger<ModelDownloader>>()));
        services.AddSingleton(sp => new ModelStore(
            options.Models.CacheDirectory, options.Models.Mirror, sp.GetRequiredService<ModelDownloader>(), sp.GetService<ILogger<ModelStore>>()));
        services.AddSingleton(new OnnxSessionFactory(options.InferenceSettings()));

        // One loader per task the runtime can serve; the manifest's task picks it.
        services.AddSingleton<IModelLoader, YoloxDetectorLoader>();
        services.AddSingleton<IModelLoader, ImageClassifierLoader>();
        services.AddSingleton<IModelLoader, UltraFaceDetectorLoader>();

        services.AddSingleton(new ImageInspector(options.ImageLimits(), new InspectionSettings(options.Info.PaletteSize, options.Info.BlurThreshold)));
        services.AddSingleton<IModelLoader, PpOcrReaderLoader>();
        services.AddSingleton<IModelLoader, Iris.Core.Captioning.ImageCaptionerLoader>();
        services.AddSingleton<IModelLoader, Iris.Core.Embeddings.ClipModelLoader>();

        services.AddSingleton(sp => new ModelRuntime(
            sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<ModelStore>(), sp.GetServices<IModelLoader>(),
            options.Models.AutoPull, options.Models.VerifyOnLoad, sp.GetService<ILogger<ModelRuntime>>()));

        // One registration per analysis task; /v1/analyze and `iris analyze` find them by name.
        services.AddSingleton<IAnalysisTask, DetectAnalysisTask>();
        services.AddSingleton<IAnalysisTask, FacesAnalysisTask>();
        services.AddSingleton<IAnalysisTask, ClassifyAnalysisTask>();
        services.AddSingleton<IAnalysisTask, InfoAnalysisTask>();
        services.AddSingleton<IAnalysisTask, OcrAnalysisTask>();
        services.AddSingleton<IAnalysisTask, DescribeAnalysisTask>();
        services.AddSingleton(sp =>
        {
            var analyzer = new ImageAnalyzer(sp.GetServices<IAnalysisTask>(), sp.GetRequiredService<ImageDecoder>(), options.Analyze.MaxParallelModelTasks);
            try
            {
                analyzer.Resolve(options.Analyze.DefaultTasks);
            }
            catch (UnknownAnalysisTaskException e)
            {
                throw new InvalidConfigurationException([$"Analyze:DefaultTasks is '{options.Analyze.DefaultTasks}': {e.Message}"]);
            }
            return analyzer;
        });
        // Transforms (issue #6): the transformer, uploaded images, the URL API's result cache and source fetcher.
        services.AddSingleton(new ImageTransformer(options.ImageLimits(), options.TransformLimits(), admission));
        services.AddIrisImageStore(options);
        services.AddSingleton(new TransformResultCache(options.Transforms.CacheDirectory, options.Transforms.CacheMaxBytes));
        services.AddSingleton(sp => new RemoteImageFetcher(options.RemoteSourcePolicy(), sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClients.RemoteSources)));
        return services;
    }
}
