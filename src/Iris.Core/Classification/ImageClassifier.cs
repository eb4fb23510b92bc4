using System.Buffers;
using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Classification;

/// <summary>
/// Any single-label ONNX image classifier, configured entirely by its manifest's <c>classifier</c> section:
/// resize (stretch or shorter side + centre crop) → normalise → ONNX → softmax (for logits) → top-k.
/// </summary>
public sealed class ImageClassifier : ILoadedModel
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string[] _outputNames;
    private readonly long[] _inputShape;
    private readonly RunGate _runGate;

    public ImageClassifier(ModelManifest manifest, ClassifierSettings settings, InferenceSession session, string inputName, string outputName,
        IReadOnlyList<string>? labels, RunLimits runLimits = default, InferenceSession? loneRun = null)
    {
        Manifest = manifest;
        Settings = settings;
        _session = session;
        _inputName = inputName;
        _outputNames = [outputName];
        Labels = labels;
        _inputShape = settings.Format.Layout == TensorLayout.Nchw
            ? [1, 3, settings.InputHeight, settings.InputWidth]
            : [1, settings.InputHeight, settings.InputWidth, 3];
        _runGate = new RunGate(runLimits, manifest.Name, "classify");
        _runGate.UseLoneRunSession(session, loneRun);
    }

    public ModelManifest Manifest { get; }
    public ClassifierSettings Settings { get; }

    /// <summary>Class names in class-index order; null when the manifest gives none (labels are then the indices).</summary>
    public IReadOnlyList<string>? Labels { get; }

    public ResizePlan PlanFor(int imageWidth, int imageHeight) => Settings.Resize == ClassifierResize.CenterCrop
        ? ResizePlan.ShorterSideThenCenterCrop(imageWidth, imageHeight, Settings.ResizeSize, Settings.InputWidth, Settings.InputHeight)
        : ResizePlan.Stretch(Settings.InputWidth, Settings.InputHeight);

    /// <summary>Resizes, crops and normalises the image into <paramref name="tensor"/> in the model's layout.</summary>
    public void Preprocess(DecodedImage image, Span<float> tensor)
    {
        if (Settings.AlignCorners)
        {
            TensorFlowBilinear.Write(image, Settings.InputWidth, Settings.InputHeight, alignCorners: true, Settings.Format, tensor);
            return;
        }
        var plan = PlanFor(image.Width, image.Height);
        var pixels = ArrayPool<byte>.Shared.Rent(plan.Width * plan.Height * 3);
        try
        {
            PillowResampler.Resize(image.Rgb, image.Width, image.Height, plan, ResampleFilter.Bilinear, Settings.Antialias, pixels);
            TensorWriter.Write(pixels, plan.Width, plan.Height, Settings.Format, tensor);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    public async Task<ClassificationResult> ClassifyAsync(DecodedImage image, ClassificationParameters parameters, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var (probabilities, inference) = await ProbabilitiesAsync(image, stopwatch, cancellationToken);
        var predictions = TopK(probabilities, parameters);
        return new ClassificationResult(Manifest.Name, predictions, new ClassificationTimings(inference.Preprocess, inference.Inference, stopwatch.Elapsed.TotalMilliseconds));
    }

    /// <summary>The probability of every class, in class-index order.</summary>
    public async Task<float[]> ProbabilitiesAsync(DecodedImage image, CancellationToken cancellationToken = default) =>
        (await ProbabilitiesAsync(image, Stopwatch.StartNew(), cancellationToken)).Probabilities;

    private async Task<(float[] Probabilities, (double Preprocess, double Inference))> ProbabilitiesAsync(
        DecodedImage image, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var length = 3 * Settings.InputWidth * Settings.InputHeight;
        var input = ArrayPool<float>.Shared.Rent(length);
        try
        {
            var tensor = input.AsMemory(0, length);
            Preprocess(image, tensor.Span);
            var preprocess = stopwatch.Elapsed.TotalMilliseconds;

            var (scores, inference) = await _runGate.RunAsync(_session, [_inputName], tensor, _inputShape, _outputNames,
                outputs => outputs[0].GetTensorDataAsSpan<float>().ToArray(), cancellationToken);
            stopwatch.Restart();

            if (Labels is not null && scores.Length != Labels.Count)
                throw new InvalidModelManifestException(Manifest.Name, $"the model outputs {scores.Length} scores but {Labels.Count} labels are given");
            if (Settings.OutputIsLogits)
                Softmax.Apply(scores, scores);
            return (scores, (preprocess, inference));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
        }
    }

    private List<ClassPrediction> TopK(float[] probabilities, ClassificationParameters parameters)
    {
        var order = Enumerable.Range(0, probabilities.Length)
            .Where(i => probabilities[i] >= parameters.MinConfidence)
            .OrderByDescending(i => probabilities[i]).ThenBy(i => i)
            .Take(parameters.TopK);
        return order.Select(i => new ClassPrediction(Labels?[i] ?? i.ToString(), i, probabilities[i])).ToList();
    }

    public void Dispose()
    {
        _session.Dispose();
        _runGate.Dispose();
    }
}
