using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Iris.Core.Imaging.Preprocessing;

/// <summary>
/// OpenCV's <c>INTER_LINEAR</c> convention (pixel centres at +0.5, two taps per axis, the edge pixel repeated, no
/// antialiasing), sampled in float straight from 8-bit RGB into the top-left window of a float tensor slot. YOLOX's
/// reference demo and PaddleOCR resize with <c>cv2.resize</c>, so their models saw pixels sampled this way.
/// The cost is two taps per sampled source row and output column, and one blend per output value, whatever the source's size.
/// </summary>
public static class OpenCvBilinear
{
    /// <summary>
    /// Resizes <paramref name="image"/> to <paramref name="resizedWidth"/>×<paramref name="resizedHeight"/> into the
    /// top-left of a <paramref name="tensorWidth"/>×<paramref name="tensorHeight"/> slot, normalised by
    /// <paramref name="format"/>; the rest of the slot is left as it is. <paramref name="padRows"/> edge rows are
    /// taken to repeat above and below the image (RapidOCR's padding of a line), without being materialised.
    /// </summary>
    public static void Write(DecodedImage image, int resizedWidth, int resizedHeight, TensorFormat format, Span<float> tensor,
        int tensorWidth, int tensorHeight, int padRows = 0)
    {
        if (resizedWidth < 1 || resizedHeight < 1 || resizedWidth > tensorWidth || resizedHeight > tensorHeight)
            throw new ArgumentOutOfRangeException(nameof(resizedWidth), $"The resized {resizedWidth}×{resizedHeight} must fit the {tensorWidth}×{tensorHeight} slot.");
        if (tensor.Length < 3L * tensorWidth * tensorHeight)
            throw new ArgumentException($"Tensor slot needs {3L * tensorWidth * tensorHeight} floats, got {tensor.Length}.", nameof(tensor));
        if (padRows < 0) throw new ArgumentOutOfRangeException(nameof(padRows));

        var sourceHeight = image.Height + 2L * padRows;
        var columns = new int[resizedWidth];
        var neighbours = new int[resizedWidth];
        var xWeights = new float[resizedWidth];
        var scaleX = (double)image.Width / resizedWidth;
        for (var x = 0; x < resizedWidth; x++)
        {
            var (x0, weight) = SourceCoordinate(x, scaleX, image.Width);
            columns[x] = (int)x0 * 3;
            // The right neighbour; at the right edge the pixel itself, as OpenCV repeats the edge pixel.
            neighbours[x] = x0 + 1 < image.Width ? columns[x] + 3 : columns[x];
            xWeights[x] = weight;
        }

        var (channelStride, pixelStride) = format.Strides(tensorWidth, tensorHeight);
        var normalization = format.Normalization;
        Span<int> plane = [format.TensorChannel(0) * channelStride, format.TensorChannel(1) * channelStride, format.TensorChannel(2) * channelStride];
        var stride = image.Width * 3;
        var scaleY = (double)sourceHeight / resizedHeight;
        var rowLength = 3 * resizedWidth;
        var rented = ArrayPool<float>.Shared.Rent(2 * rowLength);
        try
        {
            // Separable: each source row is sampled horizontally once, into planes, then two such rows are blended per
            // output row, a whole row at a time. The arithmetic and its order are those of the per-sample formula
            // (top row, bottom row, then between them), so the values are the same to the bit.
            var top = rented.AsSpan(0, rowLength);
            var bottom = rented.AsSpan(rowLength, rowLength);
            int topRow = -1, bottomRow = -1;
            for (var y = 0; y < resizedHeight; y++)
            {
                var (sy, fy) = SourceCoordinate(y, scaleY, sourceHeight);
                var row0 = SourceRow(sy, padRows, image.Height);
                var row1 = SourceRow(Math.Min(sy + 1, sourceHeight - 1), padRows, image.Height);
                if (row0 != topRow && row0 == bottomRow)
                {
                    // Downscaling by less than 2, this row's top is often the last row's bottom.
                    var swap = top;
                    top = bottom;
                    bottom = swap;
                    (topRow, bottomRow) = (bottomRow, topRow);
                }
                if (row0 != topRow)
                {
                    SampleRow(image.Rgb.AsSpan(row0 * stride, stride), columns, neighbours, xWeights, top);
                    topRow = row0;
                }
                if (row1 != bottomRow)
                {
                    SampleRow(image.Rgb.AsSpan(row1 * stride, stride), columns, neighbours, xWeights, bottom);
                    bottomRow = row1;
                }
                var outRow = y * tensorWidth * pixelStride;
                for (var c = 0; c < 3; c++)
                {
                    var above = top.Slice(c * resizedWidth, resizedWidth);
                    var below = bottom.Slice(c * resizedWidth, resizedWidth);
                    if (pixelStride == 1)
                        BlendRow(above, below, fy, normalization, c, tensor.Slice(plane[c] + outRow, resizedWidth));
                    else
                        for (int x = 0, at = plane[c] + outRow; x < resizedWidth; x++, at += pixelStride)
                        {
                            var value = above[x] + (below[x] - above[x]) * fy;
                            tensor[at] = normalization.IsIdentity ? value : normalization.Apply(value, c);
                        }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>One source row sampled at every output column, into three planes (R, G, B) of the output's width.</summary>
    /// <remarks>
    /// The hot loop of every letterbox and OCR resize (two thirds of its time). The offsets were made from the image's
    /// width and are checked once here, so the loop reads the row without a bounds check per tap.
    /// </remarks>
    private static void SampleRow(ReadOnlySpan<byte> row, int[] columns, int[] neighbours, float[] weights, Span<float> planes)
    {
        var width = columns.Length;
        if (neighbours.Length != width || weights.Length != width || planes.Length < 3 * width || row.Length < columns[^1] + 3 || row.Length < neighbours[^1] + 3)
            throw new ArgumentException("Column offsets and planes do not match the row.");
        ref var source = ref MemoryMarshal.GetReference(row);
        ref var red = ref MemoryMarshal.GetReference(planes);
        ref var green = ref Unsafe.Add(ref red, width);
        ref var blue = ref Unsafe.Add(ref green, width);
        var x = Avx2.IsSupported ? SampleRowAvx2(row, columns, neighbours, weights, planes) : 0;
        for (; x < width; x++)
        {
            // Columns only grow from left to right, so the last ones are the largest and bound them all.
            ref var left = ref Unsafe.Add(ref source, columns[x]);
            ref var right = ref Unsafe.Add(ref source, neighbours[x]);
            var fx = weights[x];
            Unsafe.Add(ref red, x) = left + (right - left) * fx;
            Unsafe.Add(ref green, x) = Unsafe.Add(ref left, 1) + (Unsafe.Add(ref right, 1) - Unsafe.Add(ref left, 1)) * fx;
            Unsafe.Add(ref blue, x) = Unsafe.Add(ref left, 2) + (Unsafe.Add(ref right, 2) - Unsafe.Add(ref left, 2)) * fx;
        }
    }

    /// <summary>
    /// <see cref="SampleRow"/> eight columns at a time, as far as it can; returns the first column left to do. One gather
    /// of four bytes at each pixel's offset brings its R, G and B (and a byte past them, unused) for eight pixels at once.
    /// </summary>
    private static unsafe int SampleRowAvx2(ReadOnlySpan<byte> row, int[] columns, int[] neighbours, float[] weights, Span<float> planes)
    {
        var width = columns.Length;
        var x = 0;
        var lowByte = Vector256.Create(0xFF);
        fixed (byte* source = row)
        fixed (int* lefts = columns, rights = neighbours)
        fixed (float* fxs = weights, red = planes)
        {
            float* green = red + width, blue = green + width;
            // The fourth byte read at a row's last pixel lies past the row (past the image on the last row): that block is left to the scalar loop.
            for (; x <= width - 8 && neighbours[x + 7] + 4 <= row.Length; x += 8)
            {
                var left = Avx2.GatherVector256((int*)source, Avx.LoadVector256(lefts + x), 1);
                var right = Avx2.GatherVector256((int*)source, Avx.LoadVector256(rights + x), 1);
                var fx = Avx.LoadVector256(fxs + x);
                Lerp(left & lowByte, right & lowByte, fx).Store(red + x);
                Lerp(Vector256.ShiftRightLogical(left, 8) & lowByte, Vector256.ShiftRightLogical(right, 8) & lowByte, fx).Store(green + x);
                Lerp(Vector256.ShiftRightLogical(left, 16) & lowByte, Vector256.ShiftRightLogical(right, 16) & lowByte, fx).Store(blue + x);
            }
        }
        return x;
    }

    /// <summary>left + (right − left)·fx, with the integer difference as the scalar formula takes it.</summary>
    private static Vector256<float> Lerp(Vector256<int> left, Vector256<int> right, Vector256<float> fx) =>
        Vector256.ConvertToSingle(left) + Vector256.ConvertToSingle(right - left) * fx;

    /// <summary>One output row of one channel into a contiguous (planar) tensor row: above + (below − above)·fy, normalised.</summary>
    private static void BlendRow(ReadOnlySpan<float> above, ReadOnlySpan<float> below, float fy, PixelNormalization normalization, int channel, Span<float> output)
    {
        var x = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var weight = new Vector<float>(fy);
            for (; x <= output.Length - Vector<float>.Count; x += Vector<float>.Count)
            {
                var a = new Vector<float>(above[x..]);
                // Multiply, then add: no fused multiply-add, whose single rounding would change the last bit.
                (a + (new Vector<float>(below[x..]) - a) * weight).CopyTo(output[x..]);
            }
        }
        for (; x < output.Length; x++)
            output[x] = above[x] + (below[x] - above[x]) * fy;
        if (!normalization.IsIdentity)
            normalization.Apply(output, channel);
    }

    private static int SourceRow(long paddedRow, int padRows, int height) => (int)Math.Clamp(paddedRow - padRows, 0, height - 1);

    private static (long Index, float Weight) SourceCoordinate(long destination, double scale, long sourceSize)
    {
        var f = (destination + 0.5) * scale - 0.5;
        var i = (long)Math.Floor(f);
        var w = (float)(f - i);
        if (i < 0) return (0, 0f);
        if (i >= sourceSize - 1) return (sourceSize - 1, 0f);
        return (i, w);
    }
}
