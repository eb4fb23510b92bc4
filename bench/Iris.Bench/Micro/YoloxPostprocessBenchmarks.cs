using BenchmarkDotNet.Attributes;
using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Bench.Micro;

/// <summary>
/// Decoding YOLOX-Nano's 3549×85 output grid and class-aware NMS, on a real output tensor captured once from the
/// test photo. A low threshold lets far more candidates reach NMS, which is where its quadratic cost shows.
/// </summary>
[MemoryDiagnoser]
public class YoloxPostprocessBenchmarks
{
    private DetectorSpec _spec = null!;
    private float[] _output = [];
    private float _ratio;
    private int _imageWidth, _imageHeight, _classCount;

    [Params(0.1f, 0.4f)]
    public float MinConfidence { get; set; }

    [GlobalSetup]
    public void CaptureOutput()
    {
        var manifest = BuiltInManifests.Load().Single(m => m.Name == "yolox-nano");
        _spec = manifest.Section<DetectorSpec>("detector");
        var modelFile = manifest.File(_spec.Model);
        var labelsFile = manifest.File(_spec.Labels);
        string MirrorPath(ModelFile f) => Path.Combine(SharedFolder.ModelsMirror, f.MirrorPath ?? Path.Combine(manifest.Name, f.Path));
        _classCount = File.ReadAllLines(MirrorPath(labelsFile)).Count(l => l.Trim().Length > 0);

        var image = new ImageDecoder(ImageLimits.Default).Decode(File.ReadAllBytes(SharedFolder.TestImage()));
        (_imageWidth, _imageHeight) = (image.Width, image.Height);
        var input = new float[3 * _spec.InputWidth * _spec.InputHeight];
        _ratio = Letterbox.Fill(image, input, _spec.InputWidth, _spec.InputHeight, _spec.PadValue, YoloxDetector.InputFormat(_spec));

        using var session = new OnnxSessionFactory(new InferenceSettings()).Create(MirrorPath(modelFile));
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, _spec.InputHeight, _spec.InputWidth]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [_spec.InputName ?? session.InputNames[0]], [inputValue], [session.OutputNames[0]]);
        _output = outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Benchmark]
    public int DecodeAndSuppress()
    {
        var candidates = YoloxOutputDecoder.Decode(
            _output, _classCount, _spec.InputWidth, _spec.InputHeight, _spec.Strides, _ratio, _imageWidth, _imageHeight, MinConfidence);
        return NonMaxSuppression.ClassAware(candidates, _spec.NmsIou, maxDetections: 100).Count;
    }
}
