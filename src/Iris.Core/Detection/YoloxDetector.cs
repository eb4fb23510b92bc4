using System.Buffers;
using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Detection;

/// <summary>A YOLOX-family object detector, configured entirely by its manifest's <see cref="DetectorSpec"/>.</summary>
public sealed class YoloxDetector : IObjectDetector
{
    private readonly InferenceSession _session;
    private readonly DetectorSpec _spec;
    private readonly string _inputName;
    private readonly string[] _outputNames;
    private readonly RunGate _runGate;
    private readonly TensorFormat _format;

    public YoloxDetector(ModelManifest manifest, DetectorSpec spec, InferenceSession session, IReadOnlyList<string> labels, RunLimits runLimits = default)
    {
        _spec = spec;
        if (_spec.Architecture != "yolox")
            throw new InvalidModelManifestException(manifest.Name, $"detector architecture '{_spec.Architecture}' is not supported (supported: yolox, centernet)");
        Manifest = manifest;
        Labels = labels;
        _session = session;
        _inputName = _spec.InputName ?? session.InputNames[0];
        if (!session.InputMetadata.ContainsKey(_inputName))
            throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no input named '{_inputName}' (it has {string.Join(", ", session.InputNames)})");
        _outputNames = [session.OutputNames[0]];
        try
        {
            _format = InputFormat(_spec);
        }
        catch (ArgumentException e)
        {
            throw new InvalidModelManifestException(manifest.Name, $"its detector scale/mean/std are invalid: {e.Message.TrimEnd('.')}");
        }
        _runGate = new RunGate(runLimits, manifest.Name, "detect");
    }

    public ModelManifest Manifest { get; }
    public DetectorSpec Spec => _spec;

    /// <summary>YOLOX letterboxes the whole image into its input.</summary>
    public DecodeNeed InputNeed => DecodeNeed.Contain(_spec.InputWidth, _spec.InputHeight);

    /// <summary>The input tensor's pixels as the manifest describes them; mean and std are per tensor plane (the model's channel order).</summary>
    public static TensorFormat InputFormat(DetectorSpec spec)
    {
        var bgr = spec.ChannelOrder == "bgr";
        return new TensorFormat(TensorLayout.Nchw, bgr,
            new PixelNormalization(spec.Scale, PixelNormalization.ToRgbOrder(spec.Mean, bgr), PixelNormalization.ToRgbOrder(spec.Std, bgr)));
    }
    public IReadOnlyList<string> Labels { get; }

    public async Task<DetectionResult> DetectAsync(DecodedImage image, DetectionParameters parameters, CancellationToken cancellationToken = default)
    {
        int width = _spec.InputWidth, height = _spec.InputHeight, plane = width * height;
        var stopwatch = Stopwatch.StartNew();
        var input = ArrayPool<float>.Shared.Rent(3 * plane);
        try
        {
            var tensor = input.AsMemory(0, 3 * plane);
            var ratio = Letterbox.Fill(image, tensor.Span, width, height, _spec.PadValue, _format);
            var preprocess = stopwatch.Elapsed.TotalMilliseconds;

            var (candidates, inference) = await _runGate.RunAsync(_session, [_inputName], tensor, [1, 3, height, width], _outputNames, outputs =>
            {
                stopwatch.Restart();
                return YoloxOutputDecoder.Decode(
                    outputs[0].GetTensorDataAsSpan<float>(), Labels.Count, width, height, _spec.Strides,
                    ratio, image.Width, image.Height, parameters.MinConfidence);
            }, cancellationToken);

            var kept = NonMaxSuppression.ClassAware(candidates, _spec.NmsIou, parameters.MaxDetections);
            var objects = kept.Select(c => new DetectedObject(Labels[c.ClassIndex], c.ClassIndex, c.Score, c.Box)).ToList();
            var postprocess = stopwatch.Elapsed.TotalMilliseconds;
            return new DetectionResult(Manifest.Name, image.Width, image.Height, objects, new DetectionTimings(preprocess, inference, postprocess));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runGate.Dispose();
    }
}
