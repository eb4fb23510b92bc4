using System.Buffers;
using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Detection;

/// <summary>
/// A CenterNet detector (<c>architecture: centernet</c>), configured by its manifest's <see cref="CenterNetSpec"/>: the whole
/// image stretched to the input size with TF.js's bilinear resize, NHWC, the raw heads decoded by
/// <see cref="CenterNetOutputDecoder"/>, NMS, boxes scaled back to the image and clipped to it.
/// </summary>
public sealed class CenterNetDetector : IObjectDetector
{
    private readonly InferenceSession _session;
    private readonly CenterNetSpec _spec;
    private readonly string[] _inputName;
    private readonly string[] _outputNames;
    private readonly RunGate _runGate;
    private readonly TensorFormat _format;

    public CenterNetDetector(ModelManifest manifest, CenterNetSpec spec, InferenceSession session, IReadOnlyList<string> labels, RunLimits runLimits = default,
        InferenceSession? loneRun = null)
    {
        Manifest = manifest;
        Labels = labels;
        _spec = spec;
        _session = session;
        var input = spec.InputName ?? session.InputNames[0];
        if (!session.InputMetadata.ContainsKey(input))
            throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no input named '{input}' (it has {string.Join(", ", session.InputNames)})");
        foreach (var output in new[] { spec.HeatmapOutput, spec.BoxOutput })
            if (!session.OutputMetadata.ContainsKey(output))
                throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no output named '{output}' (it has {string.Join(", ", session.OutputNames)})");
        if (spec.Stride < 1 || spec.InputWidth % spec.Stride != 0 || spec.InputHeight % spec.Stride != 0)
            throw new InvalidModelManifestException(manifest.Name, $"its detector stride {spec.Stride} must divide the {spec.InputWidth}×{spec.InputHeight} input");
        if (spec.ChannelOrder is not ("rgb" or "bgr"))
            throw new InvalidModelManifestException(manifest.Name, $"its detector channel_order '{spec.ChannelOrder}' must be rgb or bgr");
        _inputName = [input];
        _outputNames = [spec.HeatmapOutput, spec.BoxOutput];
        _format = new TensorFormat(TensorLayout.Nhwc, spec.ChannelOrder == "bgr", new PixelNormalization(spec.Scale));
        _runGate = new RunGate(runLimits, manifest.Name, "detect");
        _runGate.UseLoneRunSession(session, loneRun);
    }

    public ModelManifest Manifest { get; }

    /// <summary>
    /// Full resolution: the reference resize is TensorFlow's bilinear without antialiasing, which samples the decoded
    /// pixels rather than averaging them, so a DCT-shrunk decode would change what it sees.
    /// </summary>
    public DecodeNeed InputNeed => DecodeNeed.FullResolution;

    public IReadOnlyList<string> Labels { get; }

    public async Task<DetectionResult> DetectAsync(DecodedImage image, DetectionParameters parameters, CancellationToken cancellationToken = default)
    {
        int width = _spec.InputWidth, height = _spec.InputHeight, length = 3 * width * height;
        int rows = height / _spec.Stride, columns = width / _spec.Stride;
        var stopwatch = Stopwatch.StartNew();
        var input = ArrayPool<float>.Shared.Rent(length);
        try
        {
            var tensor = input.AsMemory(0, length);
            TensorFlowBilinear.Write(image, width, height, alignCorners: false, _format, tensor.Span);
            var preprocess = stopwatch.Elapsed.TotalMilliseconds;

            var (peaks, inference) = await _runGate.RunAsync(_session, _inputName, tensor, [1, height, width, 3], _outputNames, outputs =>
            {
                stopwatch.Restart();
                return CenterNetOutputDecoder.Decode(outputs[0].GetTensorDataAsSpan<float>(), outputs[1].GetTensorDataAsSpan<float>(),
                    rows, columns, Labels.Count, _spec.Stride, _spec.TopK, parameters.MinConfidence);
            }, cancellationToken);

            float scaleX = image.Width / (float)width, scaleY = image.Height / (float)height;
            var candidates = peaks.Select(p => new YoloxOutputDecoder.Candidate(p.ClassIndex, p.Score, new BoundingBox(
                Math.Clamp(p.Box.XMin * scaleX, 0, image.Width), Math.Clamp(p.Box.YMin * scaleY, 0, image.Height),
                Math.Clamp(p.Box.XMax * scaleX, 0, image.Width), Math.Clamp(p.Box.YMax * scaleY, 0, image.Height)))).ToList();
            var kept = _spec.ClassAwareNms
                ? NonMaxSuppression.ClassAware(candidates, _spec.NmsIou, parameters.MaxDetections)
                : NonMaxSuppression.AcrossClasses(candidates, _spec.NmsIou, parameters.MaxDetections);
            var objects = kept.Select(c => new DetectedObject(Labels[c.ClassIndex], c.ClassIndex, c.Score, c.Box)).ToList();
            return new DetectionResult(Manifest.Name, image.Width, image.Height, objects,
                new DetectionTimings(preprocess, inference, stopwatch.Elapsed.TotalMilliseconds));
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
