using System.Buffers;
using System.Diagnostics;
using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Faces;

/// <summary>
/// UltraFace (RFB-320 / RFB-640): the whole image stretched to the input size (OpenCV bilinear), (x − 127) / 128,
/// ONNX, score threshold, hard NMS, boxes scaled to the image's pixels.
/// </summary>
public sealed class UltraFaceDetector : ILoadedModel
{
    private readonly InferenceSession _session;
    private readonly FaceDetectorSpec _spec;
    private readonly string _inputName;
    private readonly string[] _outputNames;
    private readonly TensorFormat _format;
    private readonly RunGate _runGate;

    public UltraFaceDetector(ModelManifest manifest, FaceDetectorSpec spec, InferenceSession session, RunLimits runLimits = default,
        InferenceSession? loneRun = null)
    {
        if (spec.Architecture != "ultraface")
            throw new InvalidModelManifestException(manifest.Name, $"face_detector architecture '{spec.Architecture}' is not supported (supported: ultraface)");
        if (spec.ChannelOrder is not ("rgb" or "bgr"))
            throw new InvalidModelManifestException(manifest.Name, $"face_detector channel_order '{spec.ChannelOrder}' must be rgb or bgr");
        Manifest = manifest;
        _spec = spec;
        _session = session;
        _inputName = spec.InputName ?? session.InputNames[0];
        if (!session.InputMetadata.ContainsKey(_inputName))
            throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no input named '{_inputName}' (it has {string.Join(", ", session.InputNames)})");
        foreach (var output in new[] { spec.ScoresOutput, spec.BoxesOutput })
            if (!session.OutputMetadata.ContainsKey(output))
                throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no output named '{output}' (it has {string.Join(", ", session.OutputNames)})");
        _outputNames = [spec.ScoresOutput, spec.BoxesOutput];
        try
        {
            _format = new TensorFormat(TensorLayout.Nchw, spec.ChannelOrder == "bgr", new PixelNormalization(1, spec.Mean, spec.Std));
        }
        catch (ArgumentException e)
        {
            throw new InvalidModelManifestException(manifest.Name, $"its face_detector mean/std are invalid: {e.Message.TrimEnd('.')}");
        }
        _runGate = new RunGate(runLimits, manifest.Name, "faces");
        _runGate.UseLoneRunSession(session, loneRun);
    }

    public ModelManifest Manifest { get; }
    public FaceDetectorSpec Spec => _spec;
    public float DefaultMinConfidence => _spec.DefaultMinConfidence;

    public async Task<FaceDetectionResult> DetectAsync(DecodedImage image, FaceDetectionParameters parameters, CancellationToken cancellationToken = default)
    {
        int width = _spec.InputWidth, height = _spec.InputHeight, length = 3 * width * height;
        var stopwatch = Stopwatch.StartNew();
        var input = ArrayPool<float>.Shared.Rent(length);
        var pixels = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var tensor = input.AsMemory(0, length);
            // The authors' demo resizes with cv2.resize (INTER_LINEAR): no antialiasing.
            PillowResampler.Resize(image.Rgb, image.Width, image.Height, ResizePlan.Stretch(width, height), ResampleFilter.Bilinear, antialias: false, pixels);
            TensorWriter.Write(pixels, width, height, _format, tensor.Span);
            var preprocess = stopwatch.Elapsed.TotalMilliseconds;

            var (candidates, inference) = await _runGate.RunAsync(_session, [_inputName], tensor, [1, 3, height, width], _outputNames, outputs =>
            {
                stopwatch.Restart();
                return UltraFaceOutputDecoder.Decode(
                    outputs[0].GetTensorDataAsSpan<float>(), outputs[1].GetTensorDataAsSpan<float>(), image.Width, image.Height, parameters.MinConfidence);
            }, cancellationToken);
            var kept = NonMaxSuppression.ClassAware(candidates, _spec.NmsIou, parameters.MaxFaces);
            var faces = kept.Select(c => new DetectedFace(c.Score, c.Box)).ToList();
            return new FaceDetectionResult(Manifest.Name, image.Width, image.Height, faces,
                new FaceDetectionTimings(preprocess, inference, stopwatch.Elapsed.TotalMilliseconds));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runGate.Dispose();
    }
}
