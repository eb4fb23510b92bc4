using Iris.Core.Inference;
using Iris.Core.Models;

namespace Iris.Core.Ocr;

public sealed class PpOcrReaderLoader(OnnxSessionFactory sessions) : IModelLoader
{
    public string Task => "ocr";

    /// <summary>Each recognition session holds its own copy of the 10 MB model and its buffers.</summary>
    public const int RecognitionSessionsMax = 8;

    public async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var spec = manifest.Section<OcrSpec>("ocr");
        manifest.File(spec.DetectionModel);
        manifest.File(spec.RecognitionModel);
        manifest.File(spec.Dictionary);
        if (spec.ClassifierModel is not null) manifest.File(spec.ClassifierModel);

        // The dictionary's own line breaks delimit characters; a trailing newline is not a character.
        var dictionary = (await File.ReadAllTextAsync(files.Path(spec.Dictionary), cancellationToken))
            .Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
        var created = new List<IDisposable>();
        try
        {
            // The text detector runs on large inputs (up to 960 on the longer side): like a YOLOX run, it spreads over
            // every core when alone and takes one thread under load (Inference:AdaptiveSessions).
            var detector = sessions.CreateConcurrentRun(files.Path(spec.DetectionModel));
            created.Add(detector);
            var detectorLoneRun = sessions.CreateLoneRun(files.Path(spec.DetectionModel));
            if (detectorLoneRun is not null) created.Add(detectorLoneRun);
            var classifier = spec.ClassifierModel is null ? null : sessions.Create(files.Path(spec.ClassifierModel));
            if (classifier is not null) created.Add(classifier);
            // Lines are recognised side by side: one single-threaded session per thread of the budget
            // (Inference:IntraOpThreads, or one per core), at most RecognitionSessionsMax.
            var threads = sessions.Settings.Threads;
            var recognizers = new List<Microsoft.ML.OnnxRuntime.InferenceSession>();
            for (var i = 0; i < Math.Clamp(threads, 1, RecognitionSessionsMax); i++)
            {
                var recognizer = sessions.Create(files.Path(spec.RecognitionModel), intraOpThreads: 1);
                created.Add(recognizer);
                recognizers.Add(recognizer);
            }
            var reader = new PpOcrReader(manifest, spec, detector, classifier, recognizers, dictionary, sessions.Settings.RunLimits, detectorLoneRun);
            await reader.WarmUpAsync(cancellationToken);
            return reader;
        }
        catch
        {
            foreach (var d in created) d.Dispose();
            throw;
        }
    }
}
