using BenchmarkDotNet.Attributes;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;

namespace Iris.Bench.Micro;

/// <summary>
/// Each step of the pre-processing kit on its own, on the 768×576 test photo (the letterbox has its own class,
/// <see cref="LetterboxBenchmarks"/>): Pillow resampling (bilinear antialiased as torchvision, bicubic as CLIP, and
/// without antialias as cv2 on 8 bits), OpenCV-style float sampling into a tensor (PP-OCR), the Hugging Face centre
/// crop, and the tensor writer's normalisation in both layouts.
/// </summary>
[MemoryDiagnoser]
public class PreprocessingBenchmarks
{
    private DecodedImage _image = null!;
    private ResizePlan _torchvision;
    private readonly byte[] _pixels = new byte[3 * 224 * 224];
    private readonly float[] _tensor = new float[3 * 960 * 736];
    private readonly TensorFormat _imagenetNchw = new(TensorLayout.Nchw, Bgr: false,
        new PixelNormalization(1.0 / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]));
    private readonly TensorFormat _halfNhwcBgr = new(TensorLayout.Nhwc, Bgr: true, new PixelNormalization(1.0 / 255, [0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]));

    [GlobalSetup]
    public void LoadImage()
    {
        _image = new ImageDecoder(ImageLimits.Default).Decode(File.ReadAllBytes(SharedFolder.TestImage()));
        _torchvision = ResizePlan.ShorterSideThenCenterCrop(_image.Width, _image.Height, 256, 224, 224);
        PillowResampler.Resize(_image.Rgb, _image.Width, _image.Height, _torchvision, ResampleFilter.Bilinear, true, _pixels);
    }

    [Benchmark(Description = "Resize: Pillow bilinear, antialias, 256 + crop 224")]
    public void PillowBilinear() =>
        PillowResampler.Resize(_image.Rgb, _image.Width, _image.Height, _torchvision, ResampleFilter.Bilinear, antialias: true, _pixels);

    [Benchmark(Description = "Resize: Pillow bicubic, antialias, 256 + crop 224")]
    public void PillowBicubic() =>
        PillowResampler.Resize(_image.Rgb, _image.Width, _image.Height, _torchvision, ResampleFilter.Bicubic, antialias: true, _pixels);

    [Benchmark(Description = "Resize: 8-bit bilinear without antialias (cv2 style), 224×224")]
    public void BilinearNoAntialias() =>
        PillowResampler.Resize(_image.Rgb, _image.Width, _image.Height, ResizePlan.Stretch(224, 224), ResampleFilter.Bilinear, antialias: false, _pixels);

    [Benchmark(Description = "Resize: OpenCV float bilinear into a 960×736 tensor (PP-OCR det)")]
    public void OpenCvFloat() => OpenCvBilinear.Write(_image, 960, 720, _imagenetNchw, _tensor, 960, 736);

    [Benchmark(Description = "CenterCrop: HF shortest edge 224, bicubic, crop 224")]
    public DecodedImage HfCenterCrop() => CenterCrop.ResizeThenCrop(_image, 298, 224, 224, 224, ResampleFilter.Bicubic);

    [Benchmark(Description = "Normalize + write: 224×224 NCHW RGB, ImageNet mean/std")]
    public void WriteNchw() => TensorWriter.Write(_pixels, 224, 224, _imagenetNchw, _tensor);

    [Benchmark(Description = "Normalize + write: 224×224 NHWC BGR, 0.5/0.5")]
    public void WriteNhwc() => TensorWriter.Write(_pixels, 224, 224, _halfNhwcBgr, _tensor);
}
