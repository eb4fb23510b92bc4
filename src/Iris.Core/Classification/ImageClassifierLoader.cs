using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;

namespace Iris.Core.Classification;

/// <summary>Loads <c>classify</c> models: reads the <c>classifier</c> section, its labels and the ONNX session, then runs it once.</summary>
public sealed class ImageClassifierLoader(OnnxSessionFactory sessions) : IModelLoader
{
    public string Task => "classify";

    public async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var spec = manifest.Section<ClassifierSpec>("classifier");
        manifest.File(spec.Model);
        IReadOnlyList<string>? labels = null;
        if (spec.Labels is not null)
        {
            manifest.File(spec.Labels);
            labels = ClassLabels.FromFile(manifest.Name, files.Path(spec.Labels));
        }
        else if (spec.Classes is { } classes)
        {
            labels = ClassLabels.FromJson(manifest.Name, classes);
        }

        var session = sessions.CreateConcurrentRun(files.Path(spec.Model));
        var loneRun = sessions.CreateLoneRun(files.Path(spec.Model));
        try
        {
            var inputName = spec.InputName ?? session.InputNames[0];
            if (!session.InputMetadata.TryGetValue(inputName, out var input))
                throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no input named '{inputName}' (it has {string.Join(", ", session.InputNames)})");
            var outputName = spec.OutputName ?? session.OutputNames[0];
            if (!session.OutputMetadata.ContainsKey(outputName))
                throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no output named '{outputName}' (it has {string.Join(", ", session.OutputNames)})");

            var settings = spec.Resolve(manifest.Name, FixedInputSize(input.Dimensions, spec));
            CheckInputShape(manifest.Name, input.Dimensions, settings);
            var classifier = new ImageClassifier(manifest, settings, session, inputName, outputName, labels, sessions.Settings.RunLimits, loneRun);
            var blank = new DecodedImage(32, 32, new byte[32 * 32 * 3], ImageFormat.Png, 1, 0);
            await classifier.ProbabilitiesAsync(blank, cancellationToken);
            return classifier;
        }
        catch
        {
            session.Dispose();
            loneRun?.Dispose();
            throw;
        }
    }

    /// <summary>The input's height and width when the ONNX file fixes them, in the layout the section declares.</summary>
    private static (int Width, int Height)? FixedInputSize(int[] dimensions, ClassifierSpec spec)
    {
        if (dimensions.Length != 4) return null;
        var nhwc = string.Equals(spec.Layout ?? (spec.Preset is { } p && ClassifierPresets.All.TryGetValue(p, out var preset) ? preset.Layout : null), "nhwc", StringComparison.OrdinalIgnoreCase);
        var (h, w) = nhwc ? (dimensions[1], dimensions[2]) : (dimensions[2], dimensions[3]);
        return h > 0 && w > 0 ? (w, h) : null;
    }

    private static void CheckInputShape(string model, int[] dimensions, ClassifierSettings settings)
    {
        if (dimensions.Length != 4)
            throw new InvalidModelManifestException(model, $"its input has {dimensions.Length} dimensions; an image classifier takes [batch, 3, H, W] or [batch, H, W, 3]");
        int[] expected = settings.Format.Layout == TensorLayout.Nchw ? [1, 3, settings.InputHeight, settings.InputWidth] : [1, settings.InputHeight, settings.InputWidth, 3];
        for (var i = 0; i < 4; i++)
            if (dimensions[i] > 0 && dimensions[i] != expected[i])
                throw new InvalidModelManifestException(model,
                    $"the ONNX input is [{string.Join(", ", dimensions)}] but the classifier section describes [{string.Join(", ", expected)}] ({settings.Format.Layout.ToString().ToUpperInvariant()}); check layout and input size");
    }
}
