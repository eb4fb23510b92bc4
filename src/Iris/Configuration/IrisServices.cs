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
using Iris.Core.Tasks;
using Iris.Core.Tasks.Captioning;
using Iris.Core.Tasks.Classification;
using Iris.Core.Tasks.Detection;
using Iris.Core.Tasks.Embeddings;
using Iris.Core.Tasks.Faces;
using Iris.Core.Tasks.Inspection;
using Iris.Core.Tasks.Moderation;
using Iris.Core.Moderation;
using Iris.Core.Tasks.Ocr;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;

namespace Iris.Configuration;

/// <summary>Registers the domain services shared by the server and the CLI commands.</summary>
public static class IrisServices
{
    public static IServiceCollection AddIrisCore(this IServiceCollection services, IrisOptions options)
    {
        services.AddSingleton(options);
        // One budget of decoded pixels for the whole process: every decode and every transform takes from it.
        services.AddSingleton(sp => options.CreateDecodeAdmission(sp.GetService<ILogger<AfterBurstTrim>>()));
        services.AddSingleton(sp => new ImageDecoder(options.ImageLimits(), sp.GetRequiredService<DecodeAdmission>(), options.Images.ShrinkOnLoad, options.Images.TurboJpeg));
        services.AddSingleton(sp => new ModelCatalog(HubPin.WithDownloadUrls(BuiltInManifests.Load(), options.Models.HubEndpoint), options.Models.CacheDirectory, sp.GetService<ILogger<ModelCatalog>>()));
        services.AddIrisHttpClients(options);
        services.AddSingleton(sp => new ModelDownloader(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClients.Models),
            options.Models.DownloadAttempts, sp.GetService<ILogger<ModelDownloader>>()));
        services.AddSingleton(sp => new ModelStore(
            options.Models.CacheDirectory, options.Models.Mirror, sp.GetRequiredService<ModelDownloader>(), sp.GetService<ILogger<ModelStore>>()));
        services.AddSingleton(new OnnxSessionFactory(options.InferenceSettings()));
        services.AddSingleton(options.Inference.Batching.ToSettings());

        // One loader per task the runtime can serve; the manifest's task picks it.
        services.AddSingleton<IModelLoader, YoloxDetectorLoader>();
        services.AddSingleton<IModelLoader, ImageClassifierLoader>();
        services.AddSingleton<IModelLoader, UltraFaceDetectorLoader>();
        services.AddSingleton<IModelLoader, FaceResEmbedderLoader>();

        services.AddSingleton(new ImageInspector(options.ImageLimits(), new InspectionSettings(options.Info.PaletteSize, options.Info.BlurThreshold)));
        services.AddSingleton<IModelLoader, PpOcrReaderLoader>();
        services.AddSingleton<IModelLoader, Iris.Core.Captioning.ImageCaptionerLoader>();
        services.AddSingleton<IModelLoader, Iris.Core.Embeddings.ClipModelLoader>();

        services.AddSingleton(sp => new ModelRuntime(
            sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<ModelStore>(), sp.GetServices<IModelLoader>(),
            options.Models.AutoPull, options.Models.VerifyOnLoad, sp.GetService<ILogger<ModelRuntime>>(),
            new ModelResidency(options.Models.IdleUnloadAfter, options.Models.MemoryBudgetBytes), sp.GetService<TimeProvider>()));

        // The tasks (Iris.Core.Tasks), their defaults from the options tree. Those registered as IImageTask are the ones
        // /v1/analyze, `iris analyze` and jobs can run by name; embed and zero-shot classify run only from their own routes.
        services.AddSingleton(sp => new DetectTask(sp.GetRequiredService<ModelRuntime>(),
            new DetectTask.Defaults(options.Detection.Model, options.Detection.MinConfidence, options.Detection.MaxDetections)));
        services.AddSingleton(sp => new FacesTask(sp.GetRequiredService<ModelRuntime>(),
            new FacesTask.Defaults(options.Faces.Model, options.Faces.MinConfidence, options.Faces.MaxFaces)));
        services.AddSingleton(sp => new FaceEmbedTask(sp.GetRequiredService<ModelRuntime>(),
            new FaceEmbedTask.Defaults(options.Faces.EmbedModel, options.Faces.Model, options.Faces.MinConfidence, options.Faces.MaxFaces)));
        services.AddSingleton(sp => new ClassifyTask(sp.GetRequiredService<ModelRuntime>(),
            new ClassifyTask.Defaults(options.Classification.Model, options.Classification.TopK, options.Classification.MinConfidence)));
        services.AddSingleton(sp => new ModerateTask(sp.GetRequiredService<ModelRuntime>(), new ModerateTask.Defaults(options.Moderation.Model,
            new ModerationThresholds(options.Moderation.PornThreshold, options.Moderation.HentaiThreshold, options.Moderation.SexyThreshold))));
        services.AddSingleton(sp => new InfoTask(sp.GetRequiredService<ImageInspector>()));
        services.AddSingleton(sp => new OcrTask(sp.GetRequiredService<ModelRuntime>(), new OcrTask.Defaults(options.Ocr.Model, options.Ocr.MinConfidence)));
        services.AddSingleton(sp => new DescribeTask(sp.GetRequiredService<ModelRuntime>(),
            new DescribeTask.Defaults(options.Captioning.Model, options.Captioning.MaxNewTokensLimit, options.Captioning.MaxBeams)));
        services.AddSingleton(sp => new EmbedTask(sp.GetRequiredService<ModelRuntime>(), new EmbedTask.Defaults(options.Embeddings.Model)));
        services.AddSingleton(sp => new ZeroShotClassifyTask(sp.GetRequiredService<ModelRuntime>(), new ZeroShotClassifyTask.Defaults(options.Embeddings.Model)));
        services.AddSingleton<IImageTask>(sp => sp.GetRequiredService<DetectTask>());
        services.AddSingleton<IImageTask>(sp => sp.GetRequiredService<FacesTask>());
        services.AddSingleton<IImageTask>(sp => sp.GetRequiredService<ClassifyTask>());
        services.AddSingleton<IImageTask>(sp => sp.GetRequiredService<InfoTask>());
        services.AddSingleton<IImageTask>(sp => sp.GetRequiredService<OcrTask>());
        services.AddSingleton<IImageTask>(sp => sp.GetRequiredService<DescribeTask>());
        services.AddSingleton<IImageTask>(sp => sp.GetRequiredService<ModerateTask>());
        services.AddSingleton(sp => new Iris.Core.Faces.Recognition.FaceEmbedder(sp.GetRequiredService<ImageAnalyzer>(), sp.GetRequiredService<FaceEmbedTask>()));
        services.AddSingleton(sp =>
        {
            var analyzer = new ImageAnalyzer(sp.GetServices<IImageTask>(), sp.GetRequiredService<ImageDecoder>(), options.Analyze.MaxParallelModelTasks);
            try
            {
                analyzer.Resolve(options.Analyze.DefaultTasks);
            }
            catch (UnknownTaskException e)
            {
                throw new InvalidConfigurationException([$"Analyze:DefaultTasks is '{options.Analyze.DefaultTasks}': {e.Message}"]);
            }
            return analyzer;
        });
        // Transforms (issue #6): the transformer, uploaded images, the URL API's result cache and source fetcher.
        services.AddSingleton(sp => new ImageTransformer(options.ImageLimits(), options.TransformLimits(), sp.GetRequiredService<DecodeAdmission>()));
        services.AddSingleton(sp => new TransformTask(sp.GetRequiredService<ImageTransformer>()));
        services.AddIrisImageStore(options);
        services.AddSingleton(new TransformResultCache(options.Transforms.CacheDirectory, options.Transforms.CacheMaxBytes));
        services.AddSingleton(sp => new RemoteImageFetcher(options.RemoteSourcePolicy(), sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClients.RemoteSources)));
        // imgproxy-format URLs (issue #17): their options parser with the configured presets, and their sources.
        services.AddSingleton(new Iris.Core.Transforms.Imgproxy.ImgproxyOptionsParser(options.Transforms.ImgproxyPresets));
        services.AddSingleton(sp => new Iris.Core.Transforms.Imgproxy.ImgproxySourceReader(sp.GetRequiredService<RemoteImageFetcher>(),
            sp.GetRequiredService<Iris.Core.Storage.IBlobStore>(), options.ImageLimits(), options.Transforms.LocalRoot, sp.GetService<Iris.Core.Storage.S3ObjectStore>()));
        // The image library's vector index (issue #10), chosen by Library:Index.
        services.AddIrisVectorIndex(options);
        return services;
    }
}
