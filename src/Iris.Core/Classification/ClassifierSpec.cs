using System.Text.Json;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Models;

namespace Iris.Core.Classification;

/// <summary>
/// The manifest's <c>classifier</c> section: everything needed to feed an ONNX image classifier and read its output.
/// A <see cref="Preset"/> fills in a common convention (<c>torchvision</c>, <c>raw</c>, <c>tf</c>); any field given
/// here overrides the preset's value.
/// </summary>
public sealed record ClassifierSpec
{
    /// <summary><c>torchvision</c>, <c>raw</c> or <c>tf</c>; see <see cref="ClassifierPresets"/>.</summary>
    public string? Preset { get; init; }

    /// <summary>The ONNX file, one of the manifest's files.</summary>
    public required string Model { get; init; }

    /// <summary>Class labels: a text file (one per line, in class-index order) or a JSON file (array, or object of index → name).</summary>
    public string? Labels { get; init; }

    /// <summary>Inline class labels: an array in class-index order, or an object of index → name.</summary>
    public JsonElement? Classes { get; init; }

    public string? InputName { get; init; }
    public string? OutputName { get; init; }

    /// <summary><c>nchw</c> or <c>nhwc</c>.</summary>
    public string? Layout { get; init; }

    /// <summary><c>rgb</c> or <c>bgr</c>.</summary>
    public string? ChannelOrder { get; init; }

    /// <summary>The model's input size; when absent, read from the ONNX input's fixed dimensions.</summary>
    public int? InputWidth { get; init; }
    public int? InputHeight { get; init; }

    /// <summary><c>stretch</c> (the whole image to the input size) or <c>center_crop</c> (shorter side to <see cref="ResizeSize"/>, then a centre crop).</summary>
    public string? Resize { get; init; }

    /// <summary>The shorter side before the centre crop (torchvision's <c>Resize(256)</c>).</summary>
    public int? ResizeSize { get; init; }

    /// <summary>Widen the bilinear filter when downscaling, as PIL and torchvision do (true), or sample like OpenCV (false).</summary>
    public bool? Antialias { get; init; }

    /// <summary>
    /// Stretch as TF.js's <c>tf.image.resizeBilinear(image, size, alignCorners=true)</c> does (corner pixels map onto corner
    /// pixels, float output), for models that were fed that way, such as nsfwjs's. Only with <c>resize: stretch</c>.
    /// </summary>
    public bool? AlignCorners { get; init; }

    /// <summary><c>0..1</c> (pixels divided by 255) or <c>0..255</c>, before mean and std are applied.</summary>
    public string? PixelRange { get; init; }

    /// <summary>Per-channel mean and std in RGB order, in the units of <see cref="PixelRange"/>.</summary>
    public float[]? Mean { get; init; }
    public float[]? Std { get; init; }

    /// <summary><c>logits</c> (softmax is applied) or <c>probabilities</c> (used as they are).</summary>
    public string? Output { get; init; }

    /// <summary>This section over its preset, checked, with every value decided.</summary>
    public ClassifierSettings Resolve(string modelName, (int Width, int Height)? onnxInputSize = null)
    {
        ClassifierSpec preset;
        if (Preset is null) preset = ClassifierPresets.Raw;
        else if (!ClassifierPresets.All.TryGetValue(Preset, out preset!))
            throw Invalid(modelName, $"preset '{Preset}' is unknown (known: {string.Join(", ", ClassifierPresets.All.Keys)})");

        var layout = (Layout ?? preset.Layout ?? "nchw").ToLowerInvariant() switch
        {
            "nchw" => TensorLayout.Nchw,
            "nhwc" => TensorLayout.Nhwc,
            var other => throw Invalid(modelName, $"layout '{other}' must be nchw or nhwc"),
        };
        var bgr = (ChannelOrder ?? preset.ChannelOrder ?? "rgb").ToLowerInvariant() switch
        {
            "rgb" => false,
            "bgr" => true,
            var other => throw Invalid(modelName, $"channel_order '{other}' must be rgb or bgr"),
        };
        var width = InputWidth ?? preset.InputWidth ?? onnxInputSize?.Width
            ?? throw Invalid(modelName, "input_width is not given and the ONNX input has no fixed width");
        var height = InputHeight ?? preset.InputHeight ?? onnxInputSize?.Height
            ?? throw Invalid(modelName, "input_height is not given and the ONNX input has no fixed height");
        if (width is < 1 or > 8192 || height is < 1 or > 8192)
            throw Invalid(modelName, $"input size {width}×{height} must be between 1 and 8192 on each side");

        var resize = (Resize ?? preset.Resize ?? "stretch").ToLowerInvariant() switch
        {
            "stretch" => ClassifierResize.Stretch,
            "center_crop" or "centre_crop" => ClassifierResize.CenterCrop,
            var other => throw Invalid(modelName, $"resize '{other}' must be stretch or center_crop"),
        };
        var resizeSize = ResizeSize ?? preset.ResizeSize ?? Math.Max(width, height);
        if (resize == ClassifierResize.CenterCrop && resizeSize < Math.Max(width, height))
            throw Invalid(modelName, $"resize_size {resizeSize} is smaller than the {width}×{height} crop");

        var alignCorners = AlignCorners ?? preset.AlignCorners ?? false;
        if (alignCorners && resize != ClassifierResize.Stretch)
            throw Invalid(modelName, "align_corners applies only to resize: stretch");

        var scale = (PixelRange ?? preset.PixelRange ?? "0..1") switch
        {
            "0..1" => 1.0 / 255,
            "0..255" => 1.0,
            var other => throw Invalid(modelName, $"pixel_range '{other}' must be 0..1 or 0..255"),
        };
        PixelNormalization normalization;
        try
        {
            normalization = new PixelNormalization(scale, Mean ?? preset.Mean, Std ?? preset.Std);
        }
        catch (ArgumentException e)
        {
            throw Invalid(modelName, e.Message.TrimEnd('.'));
        }
        var logits = (Output ?? preset.Output ?? "logits").ToLowerInvariant() switch
        {
            "logits" => true,
            "probabilities" => false,
            var other => throw Invalid(modelName, $"output '{other}' must be logits or probabilities"),
        };
        return new ClassifierSettings(new TensorFormat(layout, bgr, normalization), width, height, resize, resizeSize, Antialias ?? preset.Antialias ?? true, logits)
        {
            AlignCorners = alignCorners,
        };
    }

    private static InvalidModelManifestException Invalid(string model, string reason) => new(model, $"its 'classifier' section is invalid: {reason}");
}

public enum ClassifierResize { Stretch, CenterCrop }

/// <summary>A classifier's input and output conventions with every value decided.</summary>
public sealed record ClassifierSettings(
    TensorFormat Format, int InputWidth, int InputHeight, ClassifierResize Resize, int ResizeSize, bool Antialias, bool OutputIsLogits)
{
    /// <summary>Stretch with TF.js's align-corners bilinear resize instead of the Pillow/OpenCV resamplers.</summary>
    public bool AlignCorners { get; init; }
}

/// <summary>The common conventions a manifest can name instead of spelling them out.</summary>
public static class ClassifierPresets
{
    /// <summary>torchvision / timm ImageNet models: resize 256, centre-crop 224, ImageNet mean/std, NCHW RGB, logits.</summary>
    public static ClassifierSpec Torchvision { get; } = new()
    {
        Model = "",
        Layout = "nchw",
        ChannelOrder = "rgb",
        InputWidth = 224,
        InputHeight = 224,
        Resize = "center_crop",
        ResizeSize = 256,
        Antialias = true,
        PixelRange = "0..1",
        Mean = [0.485f, 0.456f, 0.406f],
        Std = [0.229f, 0.224f, 0.225f],
        Output = "logits",
    };

    /// <summary>The whole image stretched to the input size, pixels 0..1, no mean/std, NCHW RGB, logits.</summary>
    public static ClassifierSpec Raw { get; } = new()
    {
        Model = "",
        Layout = "nchw",
        ChannelOrder = "rgb",
        Resize = "stretch",
        Antialias = true,
        PixelRange = "0..1",
        Output = "logits",
    };

    /// <summary>Keras / TensorFlow exports: NHWC, stretched, pixels scaled to −1..1 (MobileNet's preprocess_input).</summary>
    public static ClassifierSpec Tensorflow { get; } = new()
    {
        Model = "",
        Layout = "nhwc",
        ChannelOrder = "rgb",
        Resize = "stretch",
        Antialias = true,
        PixelRange = "0..1",
        Mean = [0.5f, 0.5f, 0.5f],
        Std = [0.5f, 0.5f, 0.5f],
        Output = "logits",
    };

    public static IReadOnlyDictionary<string, ClassifierSpec> All { get; } = new Dictionary<string, ClassifierSpec>(StringComparer.OrdinalIgnoreCase)
    {
        ["torchvision"] = Torchvision,
        ["raw"] = Raw,
        ["tf"] = Tensorflow,
    };
}
