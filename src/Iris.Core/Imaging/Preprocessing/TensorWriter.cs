namespace Iris.Core.Imaging.Preprocessing;

/// <summary>How a model's image input is laid out: planar (<c>[N, 3, H, W]</c>) or interleaved (<c>[N, H, W, 3]</c>).</summary>
public enum TensorLayout { Nchw, Nhwc }

/// <summary>
/// Everything a model's manifest says about its input tensor's pixels: layout, channel order and normalisation.
/// Every model builds one from its spec; the pre-processing steps write through it.
/// </summary>
public sealed record TensorFormat(TensorLayout Layout, bool Bgr, PixelNormalization Normalization)
{
    /// <summary>The tensor channel that RGB channel <paramref name="rgbChannel"/> goes to.</summary>
    public int TensorChannel(int rgbChannel) => Bgr ? 2 - rgbChannel : rgbChannel;

    /// <summary>Distance between the same pixel's consecutive channels, and between neighbouring pixels of one channel.</summary>
    internal (int Channel, int Pixel) Strides(int width, int height) =>
        Layout == TensorLayout.Nchw ? (width * height, 1) : (1, 3);
}

/// <summary>Writes 8-bit interleaved RGB pixels into a model's float input tensor (one image slot of it).</summary>
public static class TensorWriter
{
    /// <summary>The whole <paramref name="width"/>×<paramref name="height"/> raster, normalised, in the tensor's layout and channel order.</summary>
    public static void Write(ReadOnlySpan<byte> rgb, int width, int height, TensorFormat format, Span<float> destination)
    {
        var pixels = width * height;
        if (destination.Length < 3 * pixels)
            throw new ArgumentException($"Tensor needs {3 * pixels} floats, got {destination.Length}.", nameof(destination));
        if (rgb.Length < 3 * pixels)
            throw new ArgumentException($"Source needs {3 * pixels} bytes, got {rgb.Length}.", nameof(rgb));
        var (channelStride, pixelStride) = format.Strides(width, height);
        for (var c = 0; c < 3; c++)
        {
            var table = format.Normalization.Table(c);
            var target = destination[(format.TensorChannel(c) * channelStride)..];
            for (int i = 0, at = c, to = 0; i < pixels; i++, at += 3, to += pixelStride)
                target[to] = table[rgb[at]];
        }
    }

    /// <summary>
    /// Fills the part of a <paramref name="width"/>×<paramref name="height"/> tensor slot outside its top-left
    /// <paramref name="usedWidth"/>×<paramref name="usedHeight"/> window with a value per tensor channel.
    /// </summary>
    public static void FillOutside(Span<float> destination, TensorFormat format, int width, int height, int usedWidth, int usedHeight,
        ReadOnlySpan<float> valueByTensorChannel)
    {
        if (usedWidth >= width && usedHeight >= height) return;
        var (channelStride, pixelStride) = format.Strides(width, height);
        for (var c = 0; c < 3; c++)
        {
            var value = valueByTensorChannel[c];
            var channel = destination[(c * channelStride)..];
            for (var y = 0; y < height; y++)
            {
                var from = y < usedHeight ? usedWidth : 0;
                for (int x = from, at = (y * width + from) * pixelStride; x < width; x++, at += pixelStride)
                    channel[at] = value;
            }
        }
    }
}
