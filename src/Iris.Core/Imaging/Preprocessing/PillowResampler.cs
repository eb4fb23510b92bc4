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

    /// <summary>
    /// The largest intermediate taken from <see cref="ArrayPool{T}.Shared"/>. The shared pool keeps a returned array
    /// per thread and per core for as long as it likes, so pooling the tens of megabytes a large source needs kept
    /// ~950 MB alive after a burst of 32 × 36 MP images; larger intermediates are plain garbage the GC can give back.
    /// </summary>
    private const int MaxPooledBytes = 1 << 20;

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
    public static void Resize(ReadOnlySpan<byte> rgb, int width, int height, ResizePlan plan, ResampleFilter filter, bool antialias, Span<byte> destination) =>
        Resize(rgb, width, height, plan, filter, antialias, destination, verticalFirst: null);

    /// <param name="verticalFirst">The pass order; null chooses it by cost (tests force either).</param>
    internal static void Resize(ReadOnlySpan<byte> rgb, int width, int height, ResizePlan plan, ResampleFilter filter, bool antialias, Span<byte> destination,
        bool? verticalFirst)
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

        // Only the source rows (columns) some output row (column) reads are touched.
        var (firstRow, lastRow) = vertical?.Span() ?? (plan.CropY, plan.CropY + outHeight);
        var (firstColumn, lastColumn) = horizontal?.Span() ?? (plan.CropX, plan.CropX + outWidth);
        var stride = width * 3;
        var rowBytes = outWidth * 3;
        // Pillow resamples horizontally first, which keeps (rows read × output width) pixels in between. For a line
        // thousands of times taller than wide that is gigabytes, while the other order keeps (output height × columns
        // read): the cheaper order is taken when the first would be large, and real photos keep Pillow's order.
        var horizontalFirstBytes = (long)(lastRow - firstRow) * rowBytes;
        var verticalFirstBytes = (long)outHeight * (lastColumn - firstColumn) * 3;
        var verticalPassFirst = verticalFirst ?? (horizontalFirstBytes > 1 << 24 && horizontalFirstBytes > 4 * verticalFirstBytes);
        var intermediateRowBytes = verticalPassFirst ? (lastColumn - firstColumn) * 3 : rowBytes;
        var intermediateLength = checked((int)(verticalPassFirst ? verticalFirstBytes : horizontalFirstBytes));
        var pooled = intermediateLength <= MaxPooledBytes;
        var intermediate = pooled ? ArrayPool<byte>.Shared.Rent(intermediateLength) : GC.AllocateUninitializedArray<byte>(intermediateLength);
        var accumulator = ArrayPool<int>.Shared.Rent(Math.Max(rowBytes, intermediateRowBytes));
        try
        {
            var between = intermediate.AsSpan(0, intermediateLength);
            if (verticalPassFirst)
            {
                // Source columns firstColumn … lastColumn − 1, every output row; then each of those rows horizontally.
                VerticalPass(rgb, stride, firstColumn * 3, intermediateRowBytes, firstRow: 0, vertical, plan.CropY, between, outHeight, accumulator);
                HorizontalPass(between, intermediateRowBytes, 0, outHeight, plan.CropX - firstColumn, firstColumn, horizontal, destination, outWidth);
            }
            else
            {
                HorizontalPass(rgb, stride, firstRow, lastRow, plan.CropX, 0, horizontal, between, outWidth);
                VerticalPass(between, rowBytes, 0, rowBytes, firstRow, vertical, plan.CropY, destination, outHeight, accumulator);
            }
        }
        finally
        {
            if (pooled) ArrayPool<byte>.Shared.Return(intermediate);
            ArrayPool<int>.Shared.Return(accumulator);
        }
    }

    /// <summary>
    /// Rows <paramref name="firstRow"/> … <paramref name="lastRow"/> − 1 of <paramref name="source"/> (rows of
    /// <paramref name="sourceStride"/> bytes) into consecutive rows of <paramref name="target"/>; without coefficients
    /// (no horizontal change) the window's columns from <paramref name="cropX"/> are copied. Tap starts are source
    /// indices; <paramref name="columnShift"/> is the source column that the first byte of each row holds.
    /// </summary>
    private static void HorizontalPass(ReadOnlySpan<byte> source, int sourceStride, int firstRow, int lastRow, int cropX, int columnShift,
        Coefficients? horizontal, Span<byte> target, int outWidth)
    {
        var rowBytes = outWidth * 3;
        for (var y = firstRow; y < lastRow; y++)
        {
            var row = source.Slice(y * sourceStride, sourceStride);
            var output = target.Slice((y - firstRow) * rowBytes, rowBytes);
            if (horizontal is null)
            {
                row.Slice(cropX * 3, rowBytes).CopyTo(output);
                continue;
            }
            var weights = horizontal.Weights;
            for (var x = 0; x < outWidth; x++)
            {
                int r = Half, g = Half, b = Half;
                var taps = weights.AsSpan(x * horizontal.MaxTaps, horizontal.Count[x]);
                var pixels = row.Slice((horizontal.Start[x] - columnShift) * 3, taps.Length * 3);
                for (int k = 0, at = 0; k < taps.Length; k++, at += 3)
                {
                    var weight = taps[k];
                    r += pixels[at] * weight;
                    g += pixels[at + 1] * weight;
                    b += pixels[at + 2] * weight;
                }
                output[x * 3] = Clip8(r);
                output[x * 3 + 1] = Clip8(g);
                output[x * 3 + 2] = Clip8(b);
            }
        }
    }

    /// <summary>
    /// Row by row: each output row is a weighted sum of whole source rows (<paramref name="rowBytes"/> bytes from
    /// <paramref name="columnOffset"/> in each), read sequentially. <paramref name="firstRow"/> is the source row held by
    /// the first row of <paramref name="source"/>; without coefficients (no vertical change) the rows from
    /// <paramref name="cropY"/> are copied.
    /// </summary>
    private static void VerticalPass(ReadOnlySpan<byte> source, int sourceStride, int columnOffset, int rowBytes, int firstRow, Coefficients? vertical,
        int cropY, Span<byte> target, int outHeight, Span<int> accumulator)
    {
        accumulator = accumulator[..rowBytes];
        for (var y = 0; y < outHeight; y++)
        {
            var output = target.Slice(y * rowBytes, rowBytes);
            if (vertical is null)
            {
                source.Slice((cropY + y - firstRow) * sourceStride + columnOffset, rowBytes).CopyTo(output);
                continue;
            }
            accumulator.Fill(Half);
            var taps = vertical.Weights.AsSpan(y * vertical.MaxTaps, vertical.Count[y]);
            var rowStart = vertical.Start[y] - firstRow;
            for (var k = 0; k < taps.Length; k++)
            {
                var weight = taps[k];
                var row = source.Slice((rowStart + k) * sourceStride + columnOffset, rowBytes);
                for (var i = 0; i < row.Length; i++)
                    accumulator[i] += row[i] * weight;
            }
            for (var i = 0; i < output.Length; i++)
                output[i] = Clip8(accumulator[i]);
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
        /// <summary>The source range all the taps read: first index and one past the last.</summary>
        public (int First, int End) Span()
        {
            var (first, end) = (int.MaxValue, 0);
            for (var i = 0; i < Start.Length; i++)
            {
                first = Math.Min(first, Start[i]);
                end = Math.Max(end, Start[i] + Count[i]);
            }
            return (first, end);
        }

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
