using System.Buffers;
using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Inference.Batching;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;
using Candidate = Iris.Core.Detection.YoloxOutputDecoder.Candidate;

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
    private InferenceSession? _batchSession;
    private DynamicBatcher<Letterboxed, (List<Candidate> Candidates, double RunMs)>? _batcher;

    public YoloxDetector(ModelManifest manifest, DetectorSpec spec, InferenceSession session, IReadOnlyList<string> labels, RunLimits runLimits = default,
        InferenceSession? loneRun = null)
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
        _runGate.UseLoneRunSession(session, loneRun);
    }

    public ModelManifest Manifest { get; }
    public DetectorSpec Spec => _spec;

    /// <summary>YOLOX letterboxes the whole image into its input.</summary>
    public DecodeNeed InputNeed => DecodeNeed.Contain(_spec.InputWidth, _spec.InputHeight);

    /// <summary>Whether batching was turned on for this model, or why not.</summary>
    public string? LoadNote { get; private set; }

    /// <summary>Batches runs of concurrent requests (<see cref="BatchingPolicy"/>), checked on <paramref name="probes"/> first; see <see cref="BatchSession"/>.</summary>
    public void EnableBatching(string modelPath, OnnxSessionFactory sessions, BatchingPolicy policy, IReadOnlyList<DecodedImage> probes, TimeProvider? time = null)
    {
        if (!policy.Enabled)
        {
            LoadNote = "batching off (MaxBatch 1)";
            return;
        }
        int width = _spec.InputWidth, height = _spec.InputHeight;
        var tensors = probes.Select(image =>
        {
            var tensor = new float[3 * width * height];
            Letterbox.Fill(image, tensor, width, height, _spec.PadValue, _format);
            return tensor;
        }).ToArray();
        var loaded = BatchSession.Load(modelPath, _session, sessions.CreateConcurrentRun, _inputName, [3, height, width], _outputNames, tensors);
        LoadNote = loaded.Note;
        if (loaded.Session is null) return;
        _batchSession = loaded.Session;
        _batcher = new DynamicBatcher<Letterboxed, (List<Candidate>, double)>(Manifest.Name, policy, RunBatchAsync,
            sessions.Settings.RunLimits, time);
    }

    /// <summary>One request's letterboxed input (a pooled buffer the batch returns) and what decoding its rows needs.</summary>
    private sealed record Letterboxed(float[] Buffer, float Ratio, int ImageWidth, int ImageHeight, float MinConfidence);

    private async Task<IReadOnlyList<(List<Candidate>, double)>> RunBatchAsync(IReadOnlyList<Letterboxed> inputs, CancellationToken cancellationToken)
    {
        int width = _spec.InputWidth, height = _spec.InputHeight, size = 3 * width * height;
        // A lone request runs on the exported graph with its own buffer; a batch is copied into one tensor.
        var batch = inputs.Count == 1 ? inputs[0].Buffer : ArrayPool<float>.Shared.Rent(inputs.Count * size);
        try
        {
            if (inputs.Count > 1)
                for (var i = 0; i < inputs.Count; i++) inputs[i].Buffer.AsSpan(0, size).CopyTo(batch.AsSpan(i * size, size));
            var session = inputs.Count == 1 ? _session : _batchSession!;
            var (candidates, runMs) = await _runGate.RunAsync(session, [_inputName], batch.AsMemory(0, inputs.Count * size),
                [inputs.Count, 3, height, width], _outputNames, outputs =>
                {
                    var all = outputs[0].GetTensorDataAsSpan<float>();
                    var row = all.Length / inputs.Count;
                    var decoded = new List<Candidate>[inputs.Count];
                    for (var i = 0; i < inputs.Count; i++)
                        decoded[i] = YoloxOutputDecoder.Decode(all.Slice(i * row, row), Labels.Count, width, height, _spec.Strides,
                            inputs[i].Ratio, inputs[i].ImageWidth, inputs[i].ImageHeight, inputs[i].MinConfidence);
                    return decoded;
                }, cancellationToken);
            return candidates.Select(c => (c, runMs)).ToArray();
        }
        finally
        {
            if (inputs.Count > 1) ArrayPool<float>.Shared.Return(batch);
            foreach (var input in inputs) ArrayPool<float>.Shared.Return(input.Buffer);
        }
    }

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
        var handedOver = false;
        try
        {
            var tensor = input.AsMemory(0, 3 * plane);
            var ratio = Letterbox.Fill(image, tensor.Span, width, height, _spec.PadValue, _format);
            var preprocess = stopwatch.Elapsed.TotalMilliseconds;

            List<Candidate> candidates;
            double inference;
            if (_batcher is not null)
            {
                // The batch owns the buffer from here: a caller that gives up must not return it while its batch runs.
                handedOver = true;
                (candidates, inference) = await _batcher.RunAsync(new Letterboxed(input, ratio, image.Width, image.Height, parameters.MinConfidence), cancellationToken);
                stopwatch.Restart();
            }
            else
            {
                (candidates, inference) = await _runGate.RunAsync(_session, [_inputName], tensor, [1, 3, height, width], _outputNames, outputs =>
                {
                    stopwatch.Restart();
                    return YoloxOutputDecoder.Decode(
                        outputs[0].GetTensorDataAsSpan<float>(), Labels.Count, width, height, _spec.Strides,
                        ratio, image.Width, image.Height, parameters.MinConfidence);
                }, cancellationToken);
            }

            var kept = NonMaxSuppression.ClassAware(candidates, _spec.NmsIou, parameters.MaxDetections);
            var objects = kept.Select(c => new DetectedObject(Labels[c.ClassIndex], c.ClassIndex, c.Score, c.Box)).ToList();
            var postprocess = stopwatch.Elapsed.TotalMilliseconds;
            return new DetectionResult(Manifest.Name, image.Width, image.Height, objects, new DetectionTimings(preprocess, inference, postprocess));
        }
        finally
        {
            if (!handedOver) ArrayPool<float>.Shared.Return(input);
        }
    }

    public void Dispose()
    {
        _batcher?.Dispose();
        if (_batchSession is not null && !ReferenceEquals(_batchSession, _session)) _batchSession.Dispose();
        _session.Dispose();
        _runGate.Dispose();
    }
}
