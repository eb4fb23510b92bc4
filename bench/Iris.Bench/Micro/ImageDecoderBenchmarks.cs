using BenchmarkDotNet.Attributes;
using Iris.Core.Imaging;

namespace Iris.Bench.Micro;

/// <summary>Decoding the 768×576 test JPEG through libvips into upright 8-bit RGB, as every request does.</summary>
[MemoryDiagnoser]
public class ImageDecoderBenchmarks
{
    private readonly ImageDecoder _decoder = new(ImageLimits.Default);
    private byte[] _jpeg = [];

    [GlobalSetup]
    public void ReadFile() => _jpeg = File.ReadAllBytes(SharedFolder.TestImage());

    [Benchmark]
    public DecodedImage Decode() => _decoder.Decode(_jpeg);
}
