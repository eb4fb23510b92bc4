using System.Buffers;

namespace Iris.Core.Imaging;

/// <summary>
/// The geometry of one resize: the image is scaled to <see cref="ResizedWidth"/>×<see cref="ResizedHeight"/>, then
/// the window of <see cref="Width"/>×<see cref="Height"/> at (<see cref="CropX"/>, <see cref="CropY"/>) is kept.
/// Only the kept window is ever computed.
/// </summary>
public readonly record struct ResizePlan(int ResizedWidth, int ResizedHeight, int CropX, int CropY, int Width, int Height)
{
    public static ResizePlan Stretch(int width, int height) => new(width, height, 0, 0, width, height);

    /// <summary>
    /// torchvision's <c>Resize(shorterSide)</c> then <c>CenterCrop(cropWidth, cropHeight)</c>: the shorter side becomes
    /// <paramref name="shorterSide"/>, the longer one <c>int(shorterSide · long / short)</c>; the crop starts at
    /// <c>int(round((size − crop) / 2))</c> with Python's round-half-to-even.
    /// </summary>
    public static ResizePlan ShorterSideThenCenterCrop(int imageWidth, int imageHeight, int shorterSide, int cropWidth, int cropHeight)
    {
        int resizedWidth, resizedHeight;
        if (imageWidth <= imageHeight)
            (resizedWidth, resizedHeight) = (shorterSide, (int)((long)shorterSide * imageHeight / imageWidth));
        else
            (resizedWidth, resizedHeight) = ((int)((long)shorterSide * imageWidth / imageHeight), shorterSide);
        resizedWidth = Math.Max(resizedWidth, cropWidth);
        resizedHeight = Math.Max(resizedHeight, cropHeight);
        var x = (int)Math.Round((resizedWidth - cropWidth) / 2.0, MidpointRounding.ToEven);
        var y = (int)Math.Round((resizedHeight - cropHeight) / 2.0, MidpointRounding.ToEven);
        return new ResizePlan(resizedWidth, resizedHeight, x, y, cropWidth, cropHeight);
    }

    /// <summary>Scales so the longer side is at most <paramref name="maxSide"/> (never up), keeping the aspect ratio.</summary>
    public static ResizePlan FitWithin(int imageWidth, int imageHeight, int maxSide)
    {
        var ratio = Math.Min(1.0, (double)maxSide / Math.Max(imageWidth, imageHeight));
        var width = Math.Max(1, (int)Math.Round(imageWidth * ratio));
        var height = Math.Max(1, (int)Math.Round(imageHeight * ratio));
        return Stretch(width, height);
    }
}

/// <summary>
/// Separable bilinear (triangle-filter) resampling of 8-bit RGB, in Pillow's formulation: output pixel i samples
/// around the source centre <c>(i + 0.5) · scale</c>, and the weights are renormalised at the borders.
/// With <c>antialias</c> the filter widens by the downscale factor (Pillow's and torchvision's <c>BILINEAR</c>, which
/// classifiers trained with PIL saw); without it the filter always spans two source pixels, which is OpenCV's
/// <c>INTER_LINEAR</c>. Like Pillow, weights are 22-bit fixed point and both passes round to 8 bits, so the result
/// matches Pillow's 8-bit image.
/// </summary>
public static class BilinearResampler
{
    /// <summary>Pillow's PRECISION_BITS for 8-bit images: 32 − 8 − 2.</summary>
    private const int PrecisionBits = 22;
    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>Per output coordinate: the first source index, the number of taps, and the fixed-point weights (stride <see cref="MaxTaps"/>).</summary>
    internal sealed record Coefficients(int[] Start, int[] Count, int[] Weights, int MaxTaps);

    internal static Coefficients Compute(int sourceSize, int resizedSize, int offset, int count, bool antialias)
    {
        var scale = (double)sourceSize / resizedSize;
        var filterScale = antialias ? Math.Max(scale, 1.0) : 1.0;
        var support = filterScale; // the triangle filter's support is 1
        var maxTaps = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[count];
        var taps = new int[count];
        var weights = new int[count * maxTaps];
        Span<double> w = stackalloc double[maxTaps];
        for (var i = 0; i < count; i++)
        {
            var center = (offset + i + 0.5) * scale;
            var min = Math.Max((int)(center - support + 0.5), 0);
            var max = Math.Min((int)(center + support + 0.5), sourceSize);
            if (max <= min) (min, max) = (Math.Clamp((int)center, 0, sourceSize - 1), Math.Clamp((int)center, 0, sourceSize - 1) + 1);
            var n = Math.Min(max - min, maxTaps);
            double total = 0;
            for (var k = 0; k < n; k++)
            {
                var distance = Math.Abs((min + k - center + 0.5) / filterScale);
                w[k] = distance < 1 ? 1 - distance : 0;
                total += w[k];
            }
            for (var k = 0; k < n; k++)
                weights[i * maxTaps + k] = (int)((total > 0 ? w[k] / total : 1.0 / n) * (1 << PrecisionBits) + 0.5);
            start[i] = min;
            taps[i] = n;
        }
        return new Coefficients(start, taps, weights, maxTaps);
    }

    /// <summary>Resizes (and crops) interleaved RGB into <paramref name="destination"/> (plan.Width × plan.Height × 3 bytes).</summary>
    public static void Resize(ReadOnlySpan<byte> rgb, int width, int height, ResizePlan plan, bool antialias, Span<byte> destination)
    {
        var outWidth = plan.Width;
        var outHeight = plan.Height;
        if (destination.Length < outWidth * outHeight * 3)
            throw new ArgumentException($"Destination needs {outWidth * outHeight * 3} bytes, got {destination.Length}.", nameof(destination));
        if (rgb.Length < width * height * 3)
            throw new ArgumentException($"Source needs {width * height * 3} bytes, got {rgb.Length}.", nameof(rgb));
        if (plan.CropX < 0 || plan.CropY < 0 || plan.CropX + outWidth > plan.ResizedWidth || plan.CropY + outHeight > plan.ResizedHeight)
            throw new ArgumentException($"The crop window {outWidth}×{outHeight} at ({plan.CropX}, {plan.CropY}) exceeds {plan.ResizedWidth}×{plan.ResizedHeight}.", nameof(plan));

        var horizontal = Compute(width, plan.ResizedWidth, plan.CropX, outWidth, antialias);
        var vertical = Compute(height, plan.ResizedHeight, plan.CropY, outHeight, antialias);

        // Only the source rows some output row reads need the horizontal pass.
        int firstRow = int.MaxValue, lastRow = 0;
        for (var i = 0; i < outHeight; i++)
        {
            firstRow = Math.Min(firstRow, vertical.Start[i]);
            lastRow = Math.Max(lastRow, vertical.Start[i] + vertical.Count[i]);
        }
        var rowBytes = outWidth * 3;
        var intermediate = ArrayPool<byte>.Shared.Rent((lastRow - firstRow) * rowBytes);
        var accumulator = ArrayPool<int>.Shared.Rent(rowBytes);
        try
        {
            HorizontalPass(rgb, width, firstRow, lastRow, horizontal, intermediate.AsSpan(0, (lastRow - firstRow) * rowBytes), outWidth);
            VerticalPass(intermediate, rowBytes, firstRow, vertical, destination, outHeight, accumulator.AsSpan(0, rowBytes));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(intermediate);
            ArrayPool<int>.Shared.Return(accumulator);
        }
    }

    private static void HorizontalPass(ReadOnlySpan<byte> rgb, int width, int firstRow, int lastRow, Coefficients horizontal, Span<byte> intermediate, int outWidth)
    {
        var stride = width * 3;
        var rowBytes = outWidth * 3;
        var weights = horizontal.Weights;
        for (var y = firstRow; y < lastRow; y++)
        {
            var source = rgb.Slice(y * stride, stride);
            var target = intermediate.Slice((y - firstRow) * rowBytes, rowBytes);
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
    private static void VerticalPass(byte[] intermediate, int rowBytes, int firstRow, Coefficients vertical, Span<byte> destination, int outHeight, Span<int> accumulator)
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

    public static byte[] Resize(DecodedImage image, ResizePlan plan, bool antialias)
    {
        var result = new byte[plan.Width * plan.Height * 3];
        Resize(image.Rgb, image.Width, image.Height, plan, antialias, result);
        return result;
    }

    private static byte Clip8(int value)
    {
        var shifted = value >> PrecisionBits;
        return shifted < 0 ? (byte)0 : shifted > 255 ? (byte)255 : (byte)shifted;
    }
}
