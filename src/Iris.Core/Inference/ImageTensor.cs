namespace Iris.Core.Inference;

/// <summary>How a model's image input is laid out: planar (<c>[1, 3, H, W]</c>) or interleaved (<c>[1, H, W, 3]</c>).</summary>
public enum TensorLayout { Nchw, Nhwc }

/// <summary>
/// Per-channel pixel normalisation <c>value = (pixel · scale − mean[c]) / std[c]</c>, folded into one multiply-add.
/// Channels are in RGB order here, whatever order the model reads them in.
/// </summary>
public sealed record PixelNormalization
{
    public PixelNormalization(float scale, float[]? mean = null, float[]? std = null)
    {
        if (mean is { Length: not 3 } || std is { Length: not 3 })
            throw new ArgumentException("mean and std need exactly 3 values (R, G, B).");
        if (std is not null && std.Any(s => s == 0 || !float.IsFinite(s)))
            throw new ArgumentException("std values must be finite and non-zero.");
        Scale = scale;
        Mean = mean ?? [0, 0, 0];
        Std = std ?? [1, 1, 1];
        Multiplier = [scale / Std[0], scale / Std[1], scale / Std[2]];
        Offset = [-Mean[0] / Std[0], -Mean[1] / Std[1], -Mean[2] / Std[2]];
    }

    public float Scale { get; }
    public float[] Mean { get; }
    public float[] Std { get; }
    public float[] Multiplier { get; }
    public float[] Offset { get; }
}

/// <summary>Writes 8-bit interleaved RGB pixels into a model's float input tensor.</summary>
public static class ImageTensor
{
    public static void Write(ReadOnlySpan<byte> rgb, int width, int height, TensorLayout layout, bool bgr, PixelNormalization normalization, Span<float> destination)
    {
        var pixels = width * height;
        if (destination.Length < pixels * 3)
            throw new ArgumentException($"Tensor needs {pixels * 3} floats, got {destination.Length}.", nameof(destination));
        var multiplier = normalization.Multiplier;
        var offset = normalization.Offset;
        // Target slot of source channel c (R, G, B) for the model's channel order.
        Span<int> slot = bgr ? [2, 1, 0] : [0, 1, 2];
        if (layout == TensorLayout.Nchw)
        {
            for (var c = 0; c < 3; c++)
            {
                var plane = destination.Slice(slot[c] * pixels, pixels);
                float m = multiplier[c], o = offset[c];
                for (int i = 0, at = c; i < pixels; i++, at += 3)
                    plane[i] = rgb[at] * m + o;
            }
        }
        else
        {
            for (int i = 0, at = 0; i < pixels; i++, at += 3)
            {
                var target = destination.Slice(i * 3, 3);
                for (var c = 0; c < 3; c++)
                    target[slot[c]] = rgb[at + c] * multiplier[c] + offset[c];
            }
        }
    }
}
