using System.Text.Json;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;

namespace Iris.Core.HuggingFace;

/// <summary>
/// A Hugging Face image processor (<c>ViTImageProcessor</c>, <c>CLIPImageProcessor</c> and their kin) driven by the
/// model's <c>preprocessor_config.json</c>: convert to RGB, resize (exact size, or shortest edge) with Pillow's filter,
/// centre crop, rescale, normalise, channels first. The steps are the pre-processing kit's; only the window the
/// crop keeps is resampled.
/// </summary>
public sealed class HfImageProcessor
{
    public required bool DoResize { get; init; }
    /// <summary>Exact output size when set (ViT); otherwise <see cref="ShortestEdge"/> applies (CLIP).</summary>
    public int? ResizeWidth { get; init; }
    public int? ResizeHeight { get; init; }
    public int? ShortestEdge { get; init; }
    public ResampleFilter Resample { get; init; } = ResampleFilter.Bilinear;
    public bool DoCenterCrop { get; init; }
    public int CropWidth { get; init; }
    public int CropHeight { get; init; }
    public bool DoRescale { get; init; } = true;
    public double RescaleFactor { get; init; } = 1.0 / 255;
    public bool DoNormalize { get; init; } = true;
    public float[] Mean { get; init; } = [0.5f, 0.5f, 0.5f];
    public float[] Std { get; init; } = [0.5f, 0.5f, 0.5f];

    /// <summary>How much of an image the resize step needs: full resolution when the processor does not resize.</summary>
    public DecodeNeed InputNeed => !DoResize ? DecodeNeed.FullResolution
        : ResizeWidth is { } w && ResizeHeight is { } h ? DecodeNeed.Stretch(w, h)
        : ShortestEdge is { } edge ? DecodeNeed.ShorterSide(edge)
        : DecodeNeed.FullResolution;

    /// <summary>The tensor's spatial size: the crop when cropping, else the resize target.</summary>
    public (int Width, int Height) OutputSize(DecodedImage image)
    {
        if (DoCenterCrop) return (CropWidth, CropHeight);
        return DoResize ? ResizedSize(image.Width, image.Height) : (image.Width, image.Height);
    }

    /// <summary>Size after the resize step (transformers' get_resize_output_image_size with default_to_square=False for shortest_edge).</summary>
    public (int Width, int Height) ResizedSize(int width, int height)
    {
        if (ResizeWidth is { } w && ResizeHeight is { } h) return (w, h);
        if (ShortestEdge is { } edge)
        {
            // Python int() truncates, as transformers does when it scales the long side.
            // Held within ResizePlan.MaxSide: an extreme aspect ratio only widens the virtual image the crop is taken from.
            return width <= height
                ? (edge, ResizePlan.Side(Math.Floor((double)edge * height / width)))
                : (ResizePlan.Side(Math.Floor((double)edge * width / height)), edge);
        }
        return (width, height);
    }

    public static HfImageProcessor FromFile(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return FromJson(document.RootElement, path);
    }

    public static HfImageProcessor FromJson(JsonElement root, string origin)
    {
        bool Bool(string name, bool fallback) =>
            root.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
        float[] Floats(string name, float[] fallback) => root.TryGetProperty(name, out var v) switch
        {
            true when v.ValueKind == JsonValueKind.Array => v.EnumerateArray().Select(e => e.GetSingle()).ToArray(),
            true when v.ValueKind == JsonValueKind.Number => [v.GetSingle(), v.GetSingle(), v.GetSingle()],
            _ => fallback,
        };

        int? width = null, height = null, shortest = null;
        if (root.TryGetProperty("size", out var size))
        {
            if (size.ValueKind == JsonValueKind.Number)
                width = height = size.GetInt32();
            else if (size.TryGetProperty("height", out var sh) && size.TryGetProperty("width", out var sw))
                (width, height) = (sw.GetInt32(), sh.GetInt32());
            else if (size.TryGetProperty("shortest_edge", out var se))
                shortest = se.GetInt32();
            else
                throw new InvalidDataException($"{origin}: 'size' must be a number, {{height, width}} or {{shortest_edge}}.");
        }
        int cropWidth = 0, cropHeight = 0;
        if (root.TryGetProperty("crop_size", out var crop))
        {
            if (crop.ValueKind == JsonValueKind.Number) cropWidth = cropHeight = crop.GetInt32();
            else (cropWidth, cropHeight) = (crop.GetProperty("width").GetInt32(), crop.GetProperty("height").GetInt32());
        }
        var doCrop = Bool("do_center_crop", false) && cropWidth > 0;
        var resample = root.TryGetProperty("resample", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetInt32() : 2;
        if (resample is < 0 or > 5)
            throw new InvalidDataException($"{origin}: resample {resample} is not a Pillow filter (0–5).");
        var processor = new HfImageProcessor
        {
            DoResize = Bool("do_resize", true) && (width is not null || shortest is not null),
            ResizeWidth = width,
            ResizeHeight = height,
            ShortestEdge = shortest,
            Resample = (ResampleFilter)resample,
            DoCenterCrop = doCrop,
            CropWidth = cropWidth,
            CropHeight = cropHeight,
            DoRescale = Bool("do_rescale", true),
            RescaleFactor = root.TryGetProperty("rescale_factor", out var rf) ? rf.GetDouble() : 1.0 / 255,
            DoNormalize = Bool("do_normalize", true),
            Mean = Floats("image_mean", [0.5f, 0.5f, 0.5f]),
            Std = Floats("image_std", [0.5f, 0.5f, 0.5f]),
        };
        if (!processor.DoResize && !processor.DoCenterCrop)
            throw new InvalidDataException($"{origin}: without resize or centre crop the input size is unknown.");
        try
        {
            _ = processor.Format;
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{origin}: image_mean/image_std/rescale_factor are invalid: {e.Message}");
        }
        return processor;
    }

    /// <summary>Channels first, RGB, rescaled and normalised as the config says.</summary>
    public TensorFormat Format => _format ??= new TensorFormat(TensorLayout.Nchw, Bgr: false,
        new PixelNormalization(DoRescale ? RescaleFactor : 1.0, DoNormalize ? Mean : null, DoNormalize ? Std : null));

    private TensorFormat? _format;

    /// <summary>Writes the image as a channels-first float tensor (3 × H × W) into <paramref name="destination"/>.</summary>
    public void Fill(DecodedImage image, Span<float> destination)
    {
        var (resizedWidth, resizedHeight) = DoResize ? ResizedSize(image.Width, image.Height) : (image.Width, image.Height);
        var resized = DoCenterCrop
            ? CenterCrop.ResizeThenCrop(image, resizedWidth, resizedHeight, CropWidth, CropHeight, Resample)
            : PillowResampler.Resize(image, resizedWidth, resizedHeight, Resample);
        TensorWriter.Write(resized.Rgb, resized.Width, resized.Height, Format, destination);
    }
}
