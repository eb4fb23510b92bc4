using System.Buffers;

namespace Iris.Core.Imaging.Preprocessing;

/// <summary>Pillow's resample codes, which <c>preprocessor_config.json</c> stores as <c>resample</c>.</summary>
public enum ResampleFilter { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 }

/// <summary>
/// Pillow's <c>Image.resize</c> for 8-bit RGB, reproduced bit for bit: the same filters and supports, the same
/// coefficient rounding to 22-bit fixed point, a horizontal pass then a vertical pass with clipping to 0–255 after
/// each, and no pass at all along an axis whose size does not change. Classifiers trained through PIL or torchvision
/// (<c>antialias</c> on: the filter widens by the downscale factor) and Hugging Face processors see their pixels only
/// this way. With <c>antialias</c> off the filter keeps its unit support whatever the scale, which is how OpenCV's
/// <c>INTER_LINEAR</c> samples an 8-bit image (UltraFace's reference resizes with cv2).
/// </summary>
public static class PillowResampler
{
    /// <summary>Pillow's PRECISION_BITS for 8-bit images: 32 − 8 − 2.</summary>
    private const int PrecisionBits = 22;
    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>The whole image to <paramref name="width"/>×<paramref name="height"/>, antialiased as Pillow does.</summary>
    public static DecodedImage Resize(DecodedImage image, int width, int height, ResampleFilter filter)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"Target size {width}×{height} must be positive.");
        // Pillow returns a copy when the size does not change: no filtering at all.
        if (width == image.Width && height == image.Height) return image;
        return Resize(image, ResizePlan.Stretch(width, height), filter);
    }

    public static DecodedImage Resize(DecodedImage image, ResizePlan plan, ResampleFilter filter = ResampleFilter.Bilinear, bool antialias = true)
    {
        var result = new byte[plan.Width * plan.Height * 3];
        Resize(image.Rgb, image.Width, image.Height, plan, filter, antialias, result);
        return image.WithPixels(plan.Width, plan.Height, result);
    }

    /// <summary>Resizes (and crops) interleaved RGB into <paramref name="destination"/> (plan.Width × plan.Height × 3 bytes).</summary>
    public static void Resize(ReadOnlySpan<byte> rgb, int width, int height, ResizePlan plan, ResampleFilter filter, bool antialias, Span<byte> destination)
    {
        int outWidth = plan.Width, outHeight = plan.Height;
        if (width < 1 || height < 1 || outWidth < 1 || outHeight < 1)
            throw new ArgumentException($"Resizing {width}×{height} to {outWidth}×{outHeight}: every side must be at least 1.", nameof(plan));
        if (destination.Length < (long)outWidth * outHeight * 3)
            throw new ArgumentException($"Destination needs {(long)outWidth * outHeight * 3} bytes, got {destination.Length}.", nameof(destination));
        if (rgb.Length < (long)width * height * 3)
            throw new ArgumentException($"Source needs {(long)width * height * 3} bytes, got {rgb.Length}.", nameof(rgb));
        if (plan.CropX < 0 || plan.CropY < 0 || (long)plan.CropX + outWidth > plan.ResizedWidth || (long)plan.CropY + outHeight > plan.ResizedHeight)
            throw new ArgumentException($"The crop window {outWidth}×{outHeight} at ({plan.CropX}, {plan.CropY}) exceeds {plan.ResizedWidth}×{plan.ResizedHeight}.", nameof(plan));

        if (filter == ResampleFilter.Nearest)
        {
            ResizeNearest(rgb, width, height, plan, destination);
            return;
        }
        var (kernel, support) = Kernel(filter);
        // Pillow skips the pass along an axis whose size does not change; the window is then a plain copy along it.
        var horizontal = plan.ResizedWidth == width ? null : Coefficients.Compute(width, plan.ResizedWidth, plan.CropX, outWidth, kernel, support, antialias);
        var vertical = plan.ResizedHeight == height ? null : Coefficients.Compute(height, plan.ResizedHeight, plan.CropY, outHeight, kernel, support, antialias);

        // Only the source rows some output row reads need the horizontal pass.
        int firstRow = plan.CropY, lastRow = plan.CropY + outHeight;
        if (vertical is not null)
        {
            (firstRow, lastRow) = (int.MaxValue, 0);
            for (var i = 0; i < outHeight; i++)
            {
                firstRow = Math.Min(firstRow, vertical.Start[i]);
                lastRow = Math.Max(lastRow, vertical.Start[i] + vertical.Count[i]);
            }
        }
        var rowBytes = outWidth * 3;
        var intermediateLength = checked((lastRow - firstRow) * rowBytes);
        var intermediate = ArrayPool<byte>.Shared.Rent(intermediateLength);
        var accumulator = ArrayPool<int>.Shared.Rent(rowBytes);
        try
        {
            HorizontalPass(rgb, width, firstRow, lastRow, plan.CropX, horizontal, intermediate.AsSpan(0, intermediateLength), outWidth);
            if (vertical is null)
                intermediate.AsSpan(0, outHeight * rowBytes).CopyTo(destination);
            else
                VerticalPass(intermediate, rowBytes, firstRow, vertical, destination, outHeight, accumulator.AsSpan(0, rowBytes));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(intermediate);
            ArrayPool<int>.Shared.Return(accumulator);
        }
    }

    private static void HorizontalPass(ReadOnlySpan<byte> rgb, int width, int firstRow, int lastRow, int cropX, Coefficients? horizontal,
        Span<byte> intermediate, int outWidth)
    {
        var stride = width * 3;
        var rowBytes = outWidth * 3;
        for (var y = firstRow; y < lastRow; y++)
        {
            var source = rgb.Slice(y * stride, stride);
            var target = intermediate.Slice((y - firstRow) * rowBytes, rowBytes);
            if (horizontal is null)
            {
                source.Slice(cropX * 3, rowBytes).CopyTo(target);
                continue;
            }
            var weights = horizontal.Weights;
            for (var x = 0; x < outWidth; x++)
            {
                int r = Half, g = Half, b = Half;
                var taps = weights.AsSpan(x * horizontal.MaxTaps, horizontal.Count[x]);
                var pixels = source.Slice(horizontal.Start[x] * 3, taps.Length * 3);
                for (int k = 0, at = 0; k < taps.Length; k++, at += 3)
                {
                    var weight = taps[k];
                    r += pixels[at] * weight;
                    g += pixels[at + 1] * weight;
                    b += pixels[at + 2] * weight;
                }
                target[x * 3] = Clip8(r);
                target[x * 3 + 1] = Clip8(g);
                target[x * 3 + 2] = Clip8(b);
            }
        }
    }

    /// <summary>Row by row: each output row is a weighted sum of whole intermediate rows, read sequentially.</summary>
    private static void VerticalPass(byte[] intermediate, int rowBytes, int firstRow, Coefficients vertical, Span<byte> destination, int outHeight,
        Span<int> accumulator)
    {
        for (var y = 0; y < outHeight; y++)
        {
            accumulator.Fill(Half);
            var taps = vertical.Weights.AsSpan(y * vertical.MaxTaps, vertical.Count[y]);
            var rowStart = vertical.Start[y] - firstRow;
            for (var k = 0; k < taps.Length; k++)
            {
                var weight = taps[k];
                var row = intermediate.AsSpan((rowStart + k) * rowBytes, rowBytes);
                for (var i = 0; i < row.Length; i++)
                    accumulator[i] += row[i] * weight;
            }
            var target = destination.Slice(y * rowBytes, rowBytes);
            for (var i = 0; i < target.Length; i++)
                target[i] = Clip8(accumulator[i]);
        }
    }

    private static byte Clip8(int value)
    {
        var shifted = value >> PrecisionBits;
        return shifted < 0 ? (byte)0 : shifted > 255 ? (byte)255 : (byte)shifted;
    }

    /// <summary>
    /// Pillow's <c>precompute_coeffs</c> and <c>normalize_coeffs_8bpc</c> for the output coordinates
    /// <c>offset … offset + count − 1</c> only: per output, the first source index, the number of taps, and the
    /// fixed-point weights (stride <see cref="MaxTaps"/>). The taps of all outputs together are about twice the source
    /// size when downscaling, and a few per output when upscaling: bounded by the source line and the window.
    /// </summary>
    internal sealed record Coefficients(int[] Start, int[] Count, int[] Weights, int MaxTaps)
    {
        public static Coefficients Compute(int inSize, int outSize, int offset, int count, Func<double, double> kernel, double filterSupport, bool antialias)
        {
            var scale = (double)inSize / outSize;
            var filterScale = antialias ? Math.Max(scale, 1.0) : 1.0;
            var support = filterSupport * filterScale;
            // Never more taps than the source has: a 6,000,000-pixel line to 1 pixel needs at most 6,000,000.
            var maxTaps = (int)Math.Min(Math.Ceiling(support) * 2 + 1, inSize + 1);
            var length = (long)count * maxTaps;
            if (length > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(inSize), $"Resampling {inSize} pixels to {outSize} needs {length} coefficients.");
            var start = new int[count];
            var taps = new int[count];
            var weights = new int[length];
            var w = new double[maxTaps];
            var ss = 1.0 / filterScale;
            for (var i = 0; i < count; i++)
            {
                var center = (offset + i + 0.5) * scale;
                var min = (int)Math.Clamp(center - support + 0.5, 0, inSize);
                var max = (int)Math.Clamp(center + support + 0.5, 0, inSize);
                var n = Math.Min(max - min, maxTaps);
                if (n < 1)
                {
                    // Rounding at the far edge of a huge scale can leave no tap; the nearest source pixel stands in.
                    min = Math.Clamp((int)center, 0, inSize - 1);
                    n = 1;
                }
                double total = 0;
                for (var k = 0; k < n; k++)
                {
                    w[k] = kernel((min + k - center + 0.5) * ss);
                    total += w[k];
                }
                for (var k = 0; k < n; k++)
                {
                    var normalized = total != 0.0 ? w[k] / total : w[k];
                    weights[i * maxTaps + k] = normalized < 0
                        ? (int)(-0.5 + normalized * (1 << PrecisionBits))
                        : (int)(0.5 + normalized * (1 << PrecisionBits));
                }
                start[i] = min;
                taps[i] = n;
            }
            return new Coefficients(start, taps, weights, maxTaps);
        }
    }

    /// <summary>
    /// Pillow's ImagingScaleAffine: source positions are accumulated step by step from the first pixel centre (not
    /// multiplied out), then truncated; the accumulated rounding decides ties, so it is repeated here up to the window.
    /// </summary>
    private static void ResizeNearest(ReadOnlySpan<byte> rgb, int width, int height, ResizePlan plan, Span<byte> destination)
    {
        static int[] Sources(int inSize, int outSize, int offset, int count)
        {
            var step = (double)inSize / outSize;
            var result = new int[count];
            var position = step * 0.5;
            // Accumulating to a far window would cost its offset; beyond a million steps the product stands in.
            if (offset <= 1 << 20)
                for (var i = 0; i < offset; i++) position += step;
            else
                position += step * offset;
            for (var i = 0; i < count; i++, position += step)
                result[i] = Math.Clamp((int)position, 0, inSize - 1);
            return result;
        }
        var columns = Sources(width, plan.ResizedWidth, plan.CropX, plan.Width);
        var rows = Sources(height, plan.ResizedHeight, plan.CropY, plan.Height);
        var stride = width * 3;
        for (var y = 0; y < plan.Height; y++)
            for (var x = 0; x < plan.Width; x++)
                rgb.Slice(rows[y] * stride + columns[x] * 3, 3).CopyTo(destination.Slice((y * plan.Width + x) * 3, 3));
    }

    private static (Func<double, double> Kernel, double Support) Kernel(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => (x => x > -0.5 && x <= 0.5 ? 1.0 : 0.0, 0.5),
        ResampleFilter.Bilinear => (x => Math.Abs(x) < 1.0 ? 1.0 - Math.Abs(x) : 0.0, 1.0),
        ResampleFilter.Hamming => (Hamming, 1.0),
        ResampleFilter.Bicubic => (Bicubic, 2.0),
        ResampleFilter.Lanczos => (Lanczos, 3.0),
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown Pillow filter."),
    };

    private static double Hamming(double x)
    {
        if (x < 0.0) x = -x;
        if (x == 0.0) return 1.0;
        if (x >= 1.0) return 0.0;
        x *= Math.PI;
        return Math.Sin(x) / x * (0.54 + 0.46 * Math.Cos(x));
    }

    private static double Bicubic(double x)
    {
        // Pillow uses a = -0.5 (Keys' cubic convolution).
        const double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    private static double Lanczos(double x) => x > -3.0 && x < 3.0 ? Sinc(x) * Sinc(x / 3.0) : 0.0;
}
