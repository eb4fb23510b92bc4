using Iris.Core.Embeddings;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Inspection;
using Iris.Core.Ocr;
using Iris.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Tests.Imaging.Preprocessing;

/// <summary>
/// Issue #15: a 6,000,000×1 PNG overflowed the stack in the bilinear resampler (a stack buffer sized by the source
/// width), and a 1,000,000×1 PNG overflowed an int in OCR's padding and made the CLIP resize index out of range after
/// 36 s. Every step is now bounded by its output: output sides are at least 1, no size arithmetic can overflow, and
/// only the kept window of a (virtually huge) resized image is computed. The pixel buffers are built directly.
/// </summary>
public sealed class ExtremeAspectRatioTests : IDisposable
{
    private readonly MirrorModels _models = new();

    private static DecodedImage Line(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        new Random(width + height).NextBytes(rgb);
        return new DecodedImage(width, height, rgb, ImageFormat.Png, 1, 800);
    }

    [Theory]
    [InlineData(6_000_000, 1)]
    [InlineData(1, 6_000_000)]
    public void Pillow_resampling_of_a_six_million_pixel_line_uses_no_stack_and_gives_the_requested_sizes(int width, int height)
    {
        var image = Line(width, height);
        foreach (var antialias in new[] { true, false })
            foreach (var plan in new[]
            {
                ResizePlan.FitWithin(width, height, 256),
                ResizePlan.Stretch(224, 224),
                ResizePlan.ShorterSideThenCenterCrop(width, height, 256, 224, 224),
            })
            {
                var output = new byte[plan.Width * plan.Height * 3];
                PillowResampler.Resize(image.Rgb, width, height, plan, ResampleFilter.Bilinear, antialias, output);
                Assert.True(plan.Width >= 1 && plan.Height >= 1);
            }
        // The line is random bytes: averages of 23,000 of them are mid-grey, not black (the taps really read the source).
        var thumbnail = PillowResampler.Resize(image, ResizePlan.FitWithin(width, height, 256));
        Assert.InRange(thumbnail.Rgb.Average(v => v), 110, 145);
    }

    [Theory]
    [InlineData(6_000_000, 1)]
    [InlineData(1, 6_000_000)]
    public void A_constant_line_stays_that_constant_whichever_pass_runs_first(int width, int height)
    {
        // 1×6,000,000 to 224×224 resamples vertically first (the other order would hold 4 GB in between).
        var rgb = new byte[width * height * 3];
        Array.Fill(rgb, (byte)77);
        var output = new byte[224 * 224 * 3];
        PillowResampler.Resize(rgb, width, height, ResizePlan.Stretch(224, 224), ResampleFilter.Bicubic, antialias: true, output);
        Assert.All(output, v => Assert.Equal(77, v));
    }

    [Theory]
    [InlineData(ResampleFilter.Bilinear, true)]
    [InlineData(ResampleFilter.Bicubic, true)]
    [InlineData(ResampleFilter.Bilinear, false)]
    [InlineData(ResampleFilter.Lanczos, true)]
    public void Vertical_first_differs_from_Pillows_order_only_by_the_8_bit_rounding_and_clipping_between_passes(ResampleFilter filter, bool antialias)
    {
        var rgb = new byte[301 * 203 * 3];
        new Random(5).NextBytes(rgb);
        foreach (var plan in new[] { ResizePlan.Stretch(97, 71), new ResizePlan(150, 120, 13, 9, 101, 88), ResizePlan.Stretch(301, 60) })
        {
            var pillow = new byte[plan.Width * plan.Height * 3];
            var swapped = new byte[pillow.Length];
            PillowResampler.Resize(rgb, 301, 203, plan, filter, antialias, pillow, verticalFirst: false);
            PillowResampler.Resize(rgb, 301, 203, plan, filter, antialias, swapped, verticalFirst: true);
            var differences = pillow.Zip(swapped, (a, b) => Math.Abs(a - b)).ToArray();
            if (filter == ResampleFilter.Bilinear)
                Assert.InRange(differences.Max(), 0, 1);
            else // overshooting kernels on pure noise: the clip to 0–255 between passes differs where it bites
                Assert.InRange(differences.Average(), 0, 0.5);
        }
    }

    [Fact]
    public void Image_statistics_of_a_six_million_pixel_line_complete()
    {
        var statistics = ImageStatistics.Compute(Line(6_000_000, 1), 5, 100);
        Assert.Equal(16, statistics.DHash.Length);
    }

    [Theory]
    [InlineData(40_000_000, 1)]
    [InlineData(1, 40_000_000)]
    [InlineData(int.MaxValue, 1)]
    public void Resize_plans_of_an_extreme_aspect_ratio_never_overflow(int width, int height)
    {
        var crop = ResizePlan.ShorterSideThenCenterCrop(width, height, 256, 224, 224);
        Assert.Equal((224, 224), (crop.Width, crop.Height));
        Assert.True(crop.CropX >= 0 && crop.CropY >= 0 && (long)crop.CropX + crop.Width <= crop.ResizedWidth && (long)crop.CropY + crop.Height <= crop.ResizedHeight);
        Assert.True(crop.ResizedWidth <= ResizePlan.MaxSide && crop.ResizedHeight <= ResizePlan.MaxSide);

        var fit = ResizePlan.FitWithin(width, height, 256);
        Assert.True(fit.Width is >= 1 and <= 256 && fit.Height is >= 1 and <= 256);

        var clip = HfImageProcessor.FromFile(Path.Combine(TestPaths.ModelMirror, "clip-tiny", "preprocessor_config.json"));
        var (w, h) = clip.ResizedSize(width, height);
        Assert.True(w is >= 1 and <= ResizePlan.MaxSide && h is >= 1 and <= ResizePlan.MaxSide);
    }

    [Theory]
    [InlineData(1_000_000, 1)]
    [InlineData(1, 1_000_000)]
    public void Hugging_face_centre_crop_of_a_million_pixel_line_resamples_only_the_crop(int width, int height)
    {
        var clip = HfImageProcessor.FromFile(Path.Combine(TestPaths.ModelMirror, "clip-tiny", "preprocessor_config.json"));
        var image = Line(width, height);
        var (w, h) = clip.OutputSize(image);
        var tensor = new float[3 * w * h];
        clip.Fill(image, tensor);
        Assert.Equal((128, 128), (w, h));
        Assert.All(tensor, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Ocr_detection_input_of_a_million_pixel_line_reads_the_padding_without_building_it()
    {
        var spec = new OcrDetectionSpec();
        var image = Line(1_000_000, 1);
        var pad = PpOcrReader.PaddingRows(image.Width, image.Height, spec);
        Assert.Equal(124_999, pad); // a 1,000,000 × 249,999 image, if it were built
        var (width, height) = PpOcrReader.DetectionSize(image.Width, image.Height + 2 * pad, spec);
        Assert.True(width <= spec.MaxSide && height <= spec.MaxSide);
        var format = new TensorFormat(TensorLayout.Nchw, true, PixelNormalization.None);
        var tensor = new float[3 * width * height];
        PpOcrReader.WriteSlot(image, tensor, width, height, width, height, format, pad);
        // Every row of the padded image repeats the one row, so each column is constant top to bottom.
        for (var y = 1; y < height; y++)
            Assert.Equal(tensor[0], tensor[y * width]);
    }

    [Theory]
    [InlineData(1_000_000, 1)]
    [InlineData(1, 1_000_000)]
    public async Task Ocr_reads_a_million_pixel_line_without_an_overflow(int width, int height)
    {
        var reader = await _models.Runtime.GetOcrReaderAsync("ppocr-v4");
        var result = await reader.ReadAsync(Line(width, height));
        Assert.Equal((width, height), (result.Width, result.Height));
    }

    [Theory]
    [InlineData(1_000_000, 1)]
    [InlineData(1, 1_000_000)]
    public async Task Clip_embeds_a_million_pixel_line(int width, int height)
    {
        using var clip = ClipModelLoader.Load(FlowerReference.Manifest("clip-tiny"), FlowerReference.MirrorFolder("clip-tiny"),
            new OnnxSessionFactory(new InferenceSettings(1, 0, GraphOptimizationLevel.ORT_ENABLE_ALL, ExecutionMode.ORT_SEQUENTIAL, 0)));
        var embedding = Assert.Single(await clip.EmbedImagesAsync([Line(width, height)]));
        Assert.All(embedding.Vector, v => Assert.True(float.IsFinite(v)));
    }

    public void Dispose() => _models.Dispose();
}
