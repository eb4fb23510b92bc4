using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Bench.Throughput;

/// <summary>
/// The ceiling the server is measured against: one session made by Iris's own <see cref="OnnxSessionFactory"/>
/// (so the same threading and graph options), an input tensor letterboxed once from the fixed image, and then
/// nothing but <c>session.Run</c> — no decoding, no preprocessing, no output decoding, no HTTP.
/// </summary>
public sealed class RawInferenceWorkload : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    public RawInferenceWorkload(OnnxSessionFactory sessions, string modelPath, DetectorSpec spec, DecodedImage image)
    {
        _session = sessions.Create(modelPath);
        int width = spec.InputWidth, height = spec.InputHeight;
        var tensor = new float[3 * width * height];
        Letterbox.Fill(image, tensor, width, height, spec.PadValue, YoloxDetector.InputFormat(spec));
        _input = OrtValue.CreateTensorValueFromMemory(tensor, [1, 3, height, width]);
        _inputNames = [spec.InputName ?? _session.InputNames[0]];
        _outputNames = [_session.OutputNames[0]];
    }

    public ValueTask<StageTimings?> RunOnceAsync(CancellationToken cancellationToken)
    {
        // The same call YoloxDetector makes; the outputs are released at once, as the detector does after decoding them.
        using var outputs = _session.Run(_runOptions, _inputNames, [_input], _outputNames);
        return ValueTask.FromResult<StageTimings?>(null);
    }

    public void Dispose()
    {
        _input.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
