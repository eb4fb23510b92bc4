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

        var plane = width * height;
        // Pad only what the resized image does not cover: the right of each of its rows, and the rows below it.
        for (var c = 0; c < 3; c++)
        {
            var channel = chw.Slice(c * plane, plane);
            if (resizedWidth < width)
                for (var y = 0; y < resizedHeight; y++)
                    channel.Slice(y * width + resizedWidth, width - resizedWidth).Fill(padValue);
            channel[(resizedHeight * width)..].Fill(padValue);
        }
        // Per destination column, computed once: the byte offset of the left source pixel, the step to its right
        // neighbour (0 at the right edge, where OpenCV repeats the edge pixel) and the horizontal weight.
        var columns = resizedWidth <= 4096 ? stackalloc int[resizedWidth * 2] : new int[resizedWidth * 2];
        Span<float> wx = resizedWidth <= 4096 ? stackalloc float[resizedWidth] : new float[resizedWidth];
        var scaleX = (double)image.Width / resizedWidth;
        var scaleY = (double)image.Height / resizedHeight;
        for (var x = 0; x < resizedWidth; x++)
        {
            var (x0, weight) = SourceCoordinate(x, scaleX, image.Width);
            columns[2 * x] = x0 * 3;
            columns[2 * x + 1] = x0 + 1 < image.Width ? 3 : 0;
            wx[x] = weight;
        }

        var rgb = image.Rgb;
        var stride = image.Stride;
        for (var y = 0; y < resizedHeight; y++)
        {
            var (sy, fy) = SourceCoordinate(y, scaleY, image.Height);
            var row0 = rgb.AsSpan(sy * stride, stride);
            var row1 = rgb.AsSpan(Math.Min(sy + 1, image.Height - 1) * stride, stride);
            var outRow = y * width;
            // The three output rows of this line; channel order decides which plane each source channel lands in.
            var first = chw.Slice((bgr ? 2 : 0) * plane + outRow, resizedWidth);
            var second = chw.Slice(plane + outRow, resizedWidth);
            var third = chw.Slice((bgr ? 0 : 2) * plane + outRow, resizedWidth);
            for (var x = 0; x < resizedWidth; x++)
            {
                var i0 = columns[2 * x];
                var i1 = i0 + columns[2 * x + 1];
                var fx = wx[x];
                // The same arithmetic, in the same order, as the per-sample formula (LetterboxTests checks equality).
                var top = row0[i0] + (row0[i1] - row0[i0]) * fx;
                var bottom = row1[i0] + (row1[i1] - row1[i0]) * fx;
                first[x] = top + (bottom - top) * fy;
                top = row0[i0 + 1] + (row0[i1 + 1] - row0[i0 + 1]) * fx;
                bottom = row1[i0 + 1] + (row1[i1 + 1] - row1[i0 + 1]) * fx;
                second[x] = top + (bottom - top) * fy;
                top = row0[i0 + 2] + (row0[i1 + 2] - row0[i0 + 2]) * fx;
                bottom = row1[i0 + 2] + (row1[i1 + 2] - row1[i0 + 2]) * fx;
                third[x] = top + (bottom - top) * fy;
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
