namespace Iris.Core.Ocr;

/// <summary>
/// Writes an RGB raster into one image slot of a planar float tensor: bilinear resize (OpenCV's INTER_LINEAR
/// convention, pixel centres at +0.5), channel order, <c>(x/255 − mean)/std</c>, and zeros to the right of the
/// resized width (PaddleOCR pads recognition and direction inputs with zeros after normalising).
/// </summary>
public static class OcrTensor
{
    public static void Write(RgbImage image, Span<float> slot, int tensorWidth, int tensorHeight, int resizedWidth, int resizedHeight,
        bool bgr, ReadOnlySpan<float> mean, ReadOnlySpan<float> std)
    {
        var plane = tensorWidth * tensorHeight;
        if (slot.Length < 3 * plane) throw new ArgumentException($"Tensor slot needs {3 * plane} floats, got {slot.Length}.", nameof(slot));
        resizedWidth = Math.Clamp(resizedWidth, 1, tensorWidth);
        resizedHeight = Math.Clamp(resizedHeight, 1, tensorHeight);
        if (resizedWidth < tensorWidth || resizedHeight < tensorHeight) slot[..(3 * plane)].Clear();

        Span<float> scale = stackalloc float[3];
        Span<float> offset = stackalloc float[3];
        Span<int> target = stackalloc int[3];
        for (var c = 0; c < 3; c++)
        {
            // Channel c of the RGB source goes to plane target[c]; mean/std are given in the tensor's channel order.
            target[c] = bgr ? 2 - c : c;
            scale[c] = 1f / (255f * std[target[c]]);
            offset[c] = mean[target[c]] / std[target[c]];
        }

        var xIndex = new int[resizedWidth];
        var xWeight = new float[resizedWidth];
        var scaleX = (double)image.Width / resizedWidth;
        for (var x = 0; x < resizedWidth; x++)
            (xIndex[x], xWeight[x]) = SourceCoordinate(x, scaleX, image.Width);
        var scaleY = (double)image.Height / resizedHeight;
        var pixels = image.Pixels;
        var stride = image.Width * 3;
        for (var y = 0; y < resizedHeight; y++)
        {
            var (sy, fy) = SourceCoordinate(y, scaleY, image.Height);
            var row0 = sy * stride;
            var row1 = Math.Min(sy + 1, image.Height - 1) * stride;
            var outRow = y * tensorWidth;
            for (var x = 0; x < resizedWidth; x++)
            {
                var i00 = row0 + xIndex[x] * 3;
                var step = xIndex[x] + 1 < image.Width ? 3 : 0;
                var i10 = row1 + xIndex[x] * 3;
                var fx = xWeight[x];
                for (var c = 0; c < 3; c++)
                {
                    var top = pixels[i00 + c] + (pixels[i00 + step + c] - pixels[i00 + c]) * fx;
                    var bottom = pixels[i10 + c] + (pixels[i10 + step + c] - pixels[i10 + c]) * fx;
                    slot[target[c] * plane + outRow + x] = (top + (bottom - top) * fy) * scale[c] - offset[c];
                }
            }
        }
    }

    private static (int Index, float Weight) SourceCoordinate(int destination, double scale, int sourceSize)
    {
        var f = (destination + 0.5) * scale - 0.5;
        var i = (int)Math.Floor(f);
        var w = (float)(f - i);
        if (i < 0) return (0, 0f);
        if (i >= sourceSize - 1) return (sourceSize - 1, 0f);
        return (i, w);
    }

    /// <summary>PaddleOCR's resize for recognition and direction: height fixed, width by aspect ratio, capped at the slot width.</summary>
    public static int ResizedWidth(RgbImage image, int height, int maxWidth) =>
        Math.Clamp((int)Math.Ceiling(height * (double)image.Width / image.Height), 1, maxWidth);
}
