using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;

namespace Iris.Core.Ocr;

/// <summary>
/// PaddleOCR's get_rotate_crop_image: warp a (possibly rotated or skewed) text quadrilateral onto an upright
/// rectangle, bicubic with replicated borders as in cv2.warpPerspective(INTER_CUBIC, BORDER_REPLICATE), and turn
/// it 90° when it is much taller than wide (vertical text).
/// </summary>
public static class PerspectiveCrop
{
    /// <summary>The crop, or null when no projective map fits the corners (they coincide).</summary>
    public static DecodedImage? TryCrop(DecodedImage source, PointF[] corners, float verticalRatio = 1.5f)
    {
        try
        {
            return Crop(source, corners, verticalRatio);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public static DecodedImage Crop(DecodedImage source, PointF[] corners, float verticalRatio = 1.5f)
    {
        var width = Math.Max(1, (int)Math.Max(OcrGeometry.Distance(corners[0], corners[1]), OcrGeometry.Distance(corners[2], corners[3])));
        var height = Math.Max(1, (int)Math.Max(OcrGeometry.Distance(corners[0], corners[3]), OcrGeometry.Distance(corners[1], corners[2])));
        // The map from crop pixels back to source pixels, so each crop pixel is sampled once.
        var h = Homography(
            [new PointF(0, 0), new PointF(width, 0), new PointF(width, height), new PointF(0, height)], corners);
        // A box is never much larger than the image it lies on; this only guards the size arithmetic.
        if ((long)width * height > 4L * source.Width * source.Height + 1_000_000)
            throw new ArgumentException($"The box's {width}×{height} crop is larger than its {source.Width}×{source.Height} image.");
        var crop = new byte[width * height * 3];
        Span<float> pixel = stackalloc float[3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var w = h[6] * x + h[7] * y + 1.0;
                var sx = (h[0] * x + h[1] * y + h[2]) / w;
                var sy = (h[3] * x + h[4] * y + h[5]) / w;
                SampleBicubic(source, sx, sy, pixel);
                var target = (y * width + x) * 3;
                for (var c = 0; c < 3; c++)
                    crop[target + c] = (byte)Math.Clamp(MathF.Round(pixel[c]), 0, 255);
            }
        var image = source.WithPixels(width, height, crop);
        return height >= verticalRatio * width ? Rotation.CounterClockwise(image) : image;
    }

    /// <summary>The 3×3 projective map (h₈ = 1) taking each <paramref name="from"/> point to its <paramref name="to"/> point (cv2.getPerspectiveTransform).</summary>
    public static double[] Homography(PointF[] from, PointF[] to)
    {
        var a = new double[8, 9];
        for (var i = 0; i < 4; i++)
        {
            double x = from[i].X, y = from[i].Y, u = to[i].X, v = to[i].Y;
            a[i, 0] = x; a[i, 1] = y; a[i, 2] = 1; a[i, 6] = -x * u; a[i, 7] = -y * u; a[i, 8] = u;
            a[i + 4, 3] = x; a[i + 4, 4] = y; a[i + 4, 5] = 1; a[i + 4, 6] = -x * v; a[i + 4, 7] = -y * v; a[i + 4, 8] = v;
        }
        // Gaussian elimination with partial pivoting on the 8×8 system.
        for (var col = 0; col < 8; col++)
        {
            var pivot = col;
            for (var row = col + 1; row < 8; row++)
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col])) pivot = row;
            if (Math.Abs(a[pivot, col]) < 1e-12)
                throw new ArgumentException("The four points are degenerate (three of them are collinear).");
            if (pivot != col)
                for (var k = 0; k < 9; k++) (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
            for (var row = 0; row < 8; row++)
            {
                if (row == col) continue;
                var factor = a[row, col] / a[col, col];
                if (factor == 0) continue;
                for (var k = col; k < 9; k++) a[row, k] -= factor * a[col, k];
            }
        }
        var h = new double[8];
        for (var i = 0; i < 8; i++) h[i] = a[i, 8] / a[i, i];
        return h;
    }

    /// <summary>OpenCV's bicubic kernel (a = −0.75) over a 4×4 neighbourhood, clamping coordinates at the border.</summary>
    private static void SampleBicubic(DecodedImage image, double x, double y, Span<float> result)
    {
        var x0 = (int)Math.Floor(x);
        var y0 = (int)Math.Floor(y);
        Span<float> wx = stackalloc float[4];
        Span<float> wy = stackalloc float[4];
        CubicWeights((float)(x - x0), wx);
        CubicWeights((float)(y - y0), wy);
        result.Clear();
        var stride = image.Width * 3;
        for (var j = 0; j < 4; j++)
        {
            var row = Math.Clamp(y0 - 1 + j, 0, image.Height - 1) * stride;
            for (var i = 0; i < 4; i++)
            {
                var index = row + Math.Clamp(x0 - 1 + i, 0, image.Width - 1) * 3;
                var weight = wx[i] * wy[j];
                result[0] += image.Rgb[index] * weight;
                result[1] += image.Rgb[index + 1] * weight;
                result[2] += image.Rgb[index + 2] * weight;
            }
        }
    }

    private static void CubicWeights(float t, Span<float> w)
    {
        const float A = -0.75f;
        w[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
        w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
        w[2] = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
        w[3] = 1 - w[0] - w[1] - w[2];
    }
}
