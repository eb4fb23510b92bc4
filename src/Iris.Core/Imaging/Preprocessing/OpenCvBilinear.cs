namespace Iris.Core.Imaging.Preprocessing;

/// <summary>
/// OpenCV's <c>INTER_LINEAR</c> convention (pixel centres at +0.5, two taps per axis, the edge pixel repeated, no
/// antialiasing), sampled in float straight from 8-bit RGB into the top-left window of a float tensor slot. YOLOX's
/// reference demo and PaddleOCR resize with <c>cv2.resize</c>, so their models saw pixels sampled this way.
/// The cost is two taps per output value, whatever the source's size.
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
        var steps = new int[resizedWidth];
        var xWeights = new float[resizedWidth];
        var scaleX = (double)image.Width / resizedWidth;
        for (var x = 0; x < resizedWidth; x++)
        {
            var (x0, weight) = SourceCoordinate(x, scaleX, image.Width);
            columns[x] = (int)x0 * 3;
            // The step to the right neighbour: 0 at the right edge, where OpenCV repeats the edge pixel.
            steps[x] = x0 + 1 < image.Width ? 3 : 0;
            xWeights[x] = weight;
        }

        var (channelStride, pixelStride) = format.Strides(tensorWidth, tensorHeight);
        var normalization = format.Normalization;
        var identity = normalization.IsIdentity;
        Span<int> plane = [format.TensorChannel(0) * channelStride, format.TensorChannel(1) * channelStride, format.TensorChannel(2) * channelStride];
        var rgb = image.Rgb;
        var stride = image.Width * 3;
        var scaleY = (double)sourceHeight / resizedHeight;
        for (var y = 0; y < resizedHeight; y++)
        {
            var (sy, fy) = SourceCoordinate(y, scaleY, sourceHeight);
            var row0 = SourceRow(sy, padRows, image.Height) * stride;
            var row1 = SourceRow(Math.Min(sy + 1, sourceHeight - 1), padRows, image.Height) * stride;
            var outRow = y * tensorWidth * pixelStride;
            for (var x = 0; x < resizedWidth; x++)
            {
                var i0 = columns[x];
                var i1 = i0 + steps[x];
                var fx = xWeights[x];
                var at = outRow + x * pixelStride;
                for (var c = 0; c < 3; c++)
                {
                    // Top row, bottom row, then between them: the arithmetic, in its order, of the per-sample formula.
                    var top = rgb[row0 + i0 + c] + (rgb[row0 + i1 + c] - rgb[row0 + i0 + c]) * fx;
                    var bottom = rgb[row1 + i0 + c] + (rgb[row1 + i1 + c] - rgb[row1 + i0 + c]) * fx;
                    var value = top + (bottom - top) * fy;
                    tensor[plane[c] + at] = identity ? value : normalization.Apply(value, c);
                }
            }
        }
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
