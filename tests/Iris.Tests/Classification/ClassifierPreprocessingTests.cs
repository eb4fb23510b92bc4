using System.Text.Json;
using Iris.Core.Classification;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Models;

namespace Iris.Tests.Classification;

public class ClassifierPreprocessingTests
{
    private static byte[] Row(params byte[] grey) => grey.SelectMany(v => new[] { v, v, v }).ToArray();

    [Fact]
    public void Antialiased_downscale_widens_the_filter_as_Pillow_does()
    {
        // Halving 4 pixels: Pillow's bilinear spans 3 source pixels with weights .75 .75 .25 (normalised), not 2.
        var output = new byte[2 * 3];
        PillowResampler.Resize(Row(0, 100, 200, 40), 4, 1, ResizePlan.Stretch(2, 1), ResampleFilter.Bilinear, true, output);
        Assert.Equal(71, output[0]); // (0·.75 + 100·.75 + 200·.25) / 1.75 = 71.4
        Assert.Equal(output[0], output[1]);
        Assert.Equal(output[0], output[2]);
    }

    [Fact]
    public void Downscale_without_antialias_averages_two_pixels_as_OpenCV_INTER_LINEAR_does()
    {
        var output = new byte[2 * 3];
        PillowResampler.Resize(Row(0, 100, 200, 40), 4, 1, ResizePlan.Stretch(2, 1), ResampleFilter.Bilinear, false, output);
        Assert.Equal(50, output[0]);
        Assert.Equal(120, output[3]);
    }

    [Fact]
    public void Upscale_interpolates_between_pixel_centres_and_repeats_the_edges()
    {
        var output = new byte[4 * 3];
        PillowResampler.Resize(Row(0, 200), 2, 1, ResizePlan.Stretch(4, 1), ResampleFilter.Bilinear, true, output);
        Assert.Equal(new byte[] { 0, 50, 150, 200 }, output.Where((_, i) => i % 3 == 0).ToArray());
    }

    [Fact]
    public void Torchvision_resize_256_then_center_crop_224_follows_its_rounding()
    {
        // 500×375: the shorter side becomes 256, the longer int(256·500/375) = 341; the crop starts at round(58.5) = 58.
        var plan = ResizePlan.ShorterSideThenCenterCrop(500, 375, 256, 224, 224);
        Assert.Equal(new ResizePlan(341, 256, 58, 16, 224, 224), plan);
        Assert.Equal(new ResizePlan(256, 341, 16, 58, 224, 224), ResizePlan.ShorterSideThenCenterCrop(375, 500, 256, 224, 224));
    }

    [Fact]
    public void Center_crop_computes_only_the_window_of_the_full_resize()
    {
        var source = new byte[40 * 30 * 3];
        new Random(3).NextBytes(source);
        var full = new byte[20 * 15 * 3];
        PillowResampler.Resize(source, 40, 30, ResizePlan.Stretch(20, 15), ResampleFilter.Bilinear, true, full);
        var window = new byte[10 * 5 * 3];
        PillowResampler.Resize(source, 40, 30, new ResizePlan(20, 15, 4, 6, 10, 5), ResampleFilter.Bilinear, true, window);
        for (var y = 0; y < 5; y++)
            Assert.Equal(full.AsSpan(((y + 6) * 20 + 4) * 3, 30).ToArray(), window.AsSpan(y * 30, 30).ToArray());
    }

    [Fact]
    public void Tensor_layouts_and_channel_orders_put_each_value_where_the_model_reads_it()
    {
        byte[] rgb = [10, 20, 30, 40, 50, 60]; // two pixels
        var identity = new PixelNormalization(1f);
        var nchw = new float[6];
        TensorWriter.Write(rgb, 2, 1, new TensorFormat(TensorLayout.Nchw, false, identity), nchw);
        Assert.Equal(new float[] { 10, 40, 20, 50, 30, 60 }, nchw);
        var nhwcBgr = new float[6];
        TensorWriter.Write(rgb, 2, 1, new TensorFormat(TensorLayout.Nhwc, true, identity), nhwcBgr);
        Assert.Equal(new float[] { 30, 20, 10, 60, 50, 40 }, nhwcBgr);
    }

    [Fact]
    public void Imagenet_normalisation_scales_to_0_1_then_subtracts_mean_and_divides_by_std()
    {
        var settings = new ClassifierSpec { Preset = "torchvision", Model = "m.onnx" }.Resolve("m");
        var tensor = new float[3];
        TensorWriter.Write([255, 0, 128], 1, 1, settings.Format, tensor);
        Assert.Equal((1f - 0.485f) / 0.229f, tensor[0], 4);
        Assert.Equal((0f - 0.456f) / 0.224f, tensor[1], 4);
        Assert.Equal((128f / 255f - 0.406f) / 0.225f, tensor[2], 4);
    }

    [Fact]
    public void Softmax_is_stable_for_large_logits()
    {
        var probabilities = new float[3];
        Softmax.Apply([1000f, 998f, -1000f], probabilities);
        Assert.All(probabilities, p => Assert.True(float.IsFinite(p)));
        Assert.Equal(1f, probabilities.Sum(), 5);
        Assert.Equal(1f / (1f + MathF.Exp(-2f)), probabilities[0], 5);
        Assert.Equal(0f, probabilities[2], 6);
    }

    [Fact]
    public void Presets_fill_what_the_manifest_leaves_out_and_the_manifest_wins()
    {
        var torchvision = new ClassifierSpec { Preset = "torchvision", Model = "m.onnx" }.Resolve("m");
        Assert.Equal((224, 224, 256, ClassifierResize.CenterCrop, TensorLayout.Nchw), (torchvision.InputWidth, torchvision.InputHeight, torchvision.ResizeSize, torchvision.Resize, torchvision.Format.Layout));
        Assert.Equal([0.485f, 0.456f, 0.406f], torchvision.Format.Normalization.Mean);

        var overridden = new ClassifierSpec { Preset = "torchvision", Model = "m.onnx", InputWidth = 299, InputHeight = 299, ResizeSize = 342, ChannelOrder = "bgr" }.Resolve("m");
        Assert.Equal((299, 342, true), (overridden.InputWidth, overridden.ResizeSize, overridden.Format.Bgr));

        var raw = new ClassifierSpec { Preset = "raw", Model = "m.onnx" }.Resolve("m", (64, 48));
        Assert.Equal((64, 48, ClassifierResize.Stretch, 1.0 / 255), (raw.InputWidth, raw.InputHeight, raw.Resize, raw.Format.Normalization.Scale));
        Assert.Equal([0f, 0f, 0f], raw.Format.Normalization.Mean);
    }

    [Theory]
    [InlineData("""{"preset": "imagenet21k", "model": "m.onnx"}""", "preset 'imagenet21k' is unknown (known: torchvision, raw, tf)")]
    [InlineData("""{"model": "m.onnx", "layout": "chw", "input_width": 8, "input_height": 8}""", "layout 'chw' must be nchw or nhwc")]
    [InlineData("""{"model": "m.onnx"}""", "input_width is not given")]
    [InlineData("""{"preset": "torchvision", "model": "m.onnx", "resize_size": 200}""", "resize_size 200 is smaller than the 224×224 crop")]
    [InlineData("""{"preset": "raw", "model": "m.onnx", "input_width": 8, "input_height": 8, "mean": [0.5, 0.5]}""", "mean and std need exactly 3 values")]
    [InlineData("""{"preset": "raw", "model": "m.onnx", "input_width": 8, "input_height": 8, "output": "sigmoid"}""", "output 'sigmoid' must be logits or probabilities")]
    public void An_invalid_classifier_section_names_the_field_and_what_it_accepts(string section, string message)
    {
        var spec = JsonSerializer.Deserialize<ClassifierSpec>(section, ModelManifest.JsonOptions)!;
        var error = Assert.Throws<InvalidModelManifestException>(() => spec.Resolve("mine"));
        Assert.Contains(message, error.Message);
        Assert.Contains("'mine'", error.Message);
    }

    [Fact]
    public void Labels_come_from_text_arrays_index_maps_and_imagenet_class_index_json()
    {
        Assert.Equal(["fresh", "rotten"], ClassLabels.FromJson("m", JsonDocument.Parse("""["fresh", "rotten"]""").RootElement));
        Assert.Equal(["fresh", "1", "rotten"], ClassLabels.FromJson("m", JsonDocument.Parse("""{"2": "rotten", "0": "fresh"}""").RootElement));
        Assert.Equal(["tench", "goldfish"], ClassLabels.FromJson("m", JsonDocument.Parse("""{"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"]}""").RootElement));
        Assert.Throws<InvalidModelManifestException>(() => ClassLabels.FromJson("m", JsonDocument.Parse("""{"first": "x"}""").RootElement));
    }
}
