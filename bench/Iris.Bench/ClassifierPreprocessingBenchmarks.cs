using BenchmarkDotNet.Attributes;
using Iris.Core.Classification;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;

namespace Iris.Bench;

/// <summary>
/// Classifier preprocessing on a real photo (768×576): resample straight into the crop window, then normalise into the
/// tensor. Compares the conventions a manifest can pick: petal-color (stretch to 64×64, NHWC), torchvision (shorter side
/// 256 + centre crop 224, NCHW, ImageNet mean/std) with and without antialiasing.
/// </summary>
[MemoryDiagnoser]
public class ClassifierPreprocessingBenchmarks
{
    private DecodedImage _image = null!;
    private ClassifierSettings _petal = null!;
    private ClassifierSettings _torchvision = null!;
    private ClassifierSettings _torchvisionNoAntialias = null!;
    private readonly float[] _tensor = new float[3 * 224 * 224];
    private readonly byte[] _pixels = new byte[3 * 224 * 224];
    private readonly byte[] _facePixels = new byte[3 * 320 * 240];

    [GlobalSetup]
    public void Setup()
    {
        // BenchmarkDotNet runs this from a generated project folder, so "../shared" would not be found: search upwards.
        _image = new ImageDecoder(ImageLimits.Default).Decode(File.ReadAllBytes(SharedFolder.TestImage()));
        _petal = new ClassifierSpec { Preset = "raw", Model = "m", Layout = "nhwc", InputWidth = 64, InputHeight = 64 }.Resolve("petal");
        _torchvision = new ClassifierSpec { Preset = "torchvision", Model = "m" }.Resolve("torchvision");
        _torchvisionNoAntialias = new ClassifierSpec { Preset = "torchvision", Model = "m", Antialias = false }.Resolve("torchvision");
    }

    private void Run(ClassifierSettings settings, ResizePlan plan)
    {
        PillowResampler.Resize(_image.Rgb, _image.Width, _image.Height, plan, ResampleFilter.Bilinear, settings.Antialias, _pixels);
        TensorWriter.Write(_pixels, plan.Width, plan.Height, settings.Format, _tensor);
    }

    [Benchmark(Description = "petal-color: stretch 64×64, NHWC")]
    public void PetalColor() => Run(_petal, ResizePlan.Stretch(64, 64));

    [Benchmark(Baseline = true, Description = "torchvision: 256 + crop 224, NCHW, antialias")]
    public void Torchvision() => Run(_torchvision, ResizePlan.ShorterSideThenCenterCrop(_image.Width, _image.Height, 256, 224, 224));

    [Benchmark(Description = "torchvision geometry, no antialias (OpenCV)")]
    public void TorchvisionNoAntialias() => Run(_torchvisionNoAntialias, ResizePlan.ShorterSideThenCenterCrop(_image.Width, _image.Height, 256, 224, 224));

    [Benchmark(Description = "UltraFace: stretch 320×240, no antialias")]
    public void UltraFace() => PillowResampler.Resize(_image.Rgb, _image.Width, _image.Height, ResizePlan.Stretch(320, 240), ResampleFilter.Bilinear, false, _facePixels);
}
