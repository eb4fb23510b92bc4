using BenchmarkDotNet.Attributes;
using Iris.Core.Imaging;

namespace Iris.Bench.Micro;

/// <summary>
/// Decoding the 768×576 test JPEG into upright 8-bit RGB, as every request does: through libvips, and through TurboJPEG
/// (Images:TurboJpeg) where libturbojpeg.so.0 is installed (without it both rows decode with libvips). The two give the
/// same pixels (TurboJpegTests); this is what each costs, whole and shrunk on load for a 64×64 model (1/4: 192×144).
/// </summary>
[MemoryDiagnoser]
public class ImageDecoderBenchmarks
{
    private ImageDecoder _decoder = null!;
    private byte[] _jpeg = [];
    private readonly DecodeNeed[] _smallModel = [DecodeNeed.Stretch(64, 64)];

    [Params(false, true)]
    public bool TurboJpeg { get; set; }

    [GlobalSetup]
    public void ReadFile()
    {
        _jpeg = File.ReadAllBytes(SharedFolder.TestImage());
        _decoder = new ImageDecoder(ImageLimits.Default, turboJpeg: TurboJpeg);
    }

    [Benchmark]
    public DecodedImage Decode() => _decoder.Decode(_jpeg);

    [Benchmark]
    public DecodedImage DecodeForSmallModel() => _decoder.Decode(_jpeg, _smallModel);
}
