using Iris.Core.Imaging;

namespace Iris.Core.Detection;

/// <summary>
/// YOLOX's letterbox: scale by r = min(W/w, H/h), resize bilinearly to (⌊w·r⌋, ⌊h·r⌋), place at the
/// top-left of a W×H canvas filled with the pad value, and write planar float channels (CHW).
/// The bilinear sampling uses OpenCV's INTER_LINEAR convention (pixel centres at +0.5, no
/// antialiasing), which is what the model saw in training and in the reference demo.
/// </summary>
public static class Letterbox
{
    /// <summary>Fills <paramref name="chw"/> (3×H×W) and returns the scale factor r.</summary>
    public static float Fill(DecodedImage image, Span<float> chw, int width, int height, float padValue, bool bgr)
    {
        if (chw.Length < 3 * width * height)
            throw new ArgumentException($"Tensor needs {3 * width * height} floats, got {chw.Length}.", nameof(chw));

        var ratio = Math.Min((float)width / image.Width, (float)height / image.Height);
        var resizedWidth = Math.Clamp((int)(image.Width * ratio), 1, width);
        var resizedHeight = Math.Clamp((int)(image.Height * ratio), 1, height);

        chw[..(3 * width * height)].Fill(padValue);

        var plane = width * height;
        var (red, green, blue) = bgr ? (2, 1, 0) : (0, 1, 2);
        Span<int> x0 = resizedWidth <= 4096 ? stackalloc int[resizedWidth] : new int[resizedWidth];
        Span<float> wx = resizedWidth <= 4096 ? stackalloc float[resizedWidth] : new float[resizedWidth];
        var scaleX = (double)image.Width / resizedWidth;
        var scaleY = (double)image.Height / resizedHeight;
        for (var x = 0; x < resizedWidth; x++)
            (x0[x], wx[x]) = SourceCoordinate(x, scaleX, image.Width);

        var rgb = image.Rgb;
        var stride = image.Stride;
        for (var y = 0; y < resizedHeight; y++)
        {
            var (sy, fy) = SourceCoordinate(y, scaleY, image.Height);
            var row0 = sy * stride;
            var row1 = Math.Min(sy + 1, image.Height - 1) * stride;
            var outRow = y * width;
            for (var x = 0; x < resizedWidth; x++)
            {
                var i00 = row0 + x0[x] * 3;
                var i01 = i00 + (x0[x] + 1 < image.Width ? 3 : 0);
                var i10 = row1 + x0[x] * 3;
                var i11 = i10 + (i01 - i00);
                var fx = wx[x];
                for (var c = 0; c < 3; c++)
                {
                    var top = rgb[i00 + c] + (rgb[i01 + c] - rgb[i00 + c]) * fx;
                    var bottom = rgb[i10 + c] + (rgb[i11 + c] - rgb[i10 + c]) * fx;
                    var target = c == 0 ? red : c == 1 ? green : blue;
                    chw[target * plane + outRow + x] = top + (bottom - top) * fy;
                }
            }
        }
        return ratio;
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

    /// <summary>value = (value·scale − mean[c]) / std[c], per channel plane.</summary>
    public static void Normalize(Span<float> chw, int planeSize, float scale, float[]? mean, float[]? std)
    {
        if (scale == 1f && mean is null && std is null) return;
        for (var c = 0; c < 3; c++)
        {
            var m = mean?[c] ?? 0f;
            var s = std?[c] ?? 1f;
            var plane = chw.Slice(c * planeSize, planeSize);
            for (var i = 0; i < plane.Length; i++)
                plane[i] = (plane[i] * scale - m) / s;
        }
    }
}
