using BenchmarkDotNet.Attributes;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;

namespace Iris.Bench.Micro;

/// <summary>YOLOX's letterbox of the 768×576 test photo into the 416×416 BGR input tensor.</summary>
[MemoryDiagnoser]
public class LetterboxBenchmarks
{
    private const int Size = 416;

    private DecodedImage _image = null!;
    private readonly float[] _tensor = new float[3 * Size * Size];
    private readonly TensorFormat _bgr = new(TensorLayout.Nchw, Bgr: true, PixelNormalization.None);

    [GlobalSetup]
    public void LoadImage() =>
        _image = new ImageDecoder(ImageLimits.Default).Decode(File.ReadAllBytes(SharedFolder.TestImage()));

    [Benchmark]
    public float Fill() => Letterbox.Fill(_image, _tensor, Size, Size, padValue: 114f, _bgr);
}
