namespace Iris.Core.Imaging.Preprocessing;

/// <summary>
/// <c>tf.image.resizeBilinear</c> as TensorFlow.js computes it, for models converted from TF.js that were fed through it:
/// the source coordinate of output row r is <c>r · (in − 1)/(out − 1)</c> with <c>alignCorners</c> (nsfwjs) or
/// <c>r · in/out</c> without (Human's CenterNet; TF's legacy, not half-pixel, centres), no filter widening when
/// downscaling, and the interpolated values written as floats (TF.js resizes a float tensor; nothing is rounded to 8 bits).
/// </summary>
public static class TensorFlowBilinear
{
    /// <summary>Resizes the whole image to <paramref name="width"/>×<paramref name="height"/> into a tensor slot, normalised.</summary>
    public static void Write(DecodedImage image, int width, int height, bool alignCorners, TensorFormat format, Span<float> destination)
    {
        if (destination.Length < 3 * width * height)
            throw new ArgumentException($"Tensor needs {3 * width * height} floats, got {destination.Length}.", nameof(destination));
        var (channelStride, pixelStride) = format.Strides(width, height);
        var rows = Coordinates(image.Height, height, alignCorners);
        var columns = Coordinates(image.Width, width, alignCorners);
        var rgb = image.Rgb;
        var stride = image.Width * 3;
        var normalization = format.Normalization;
        Span<int> target = [format.TensorChannel(0) * channelStride, format.TensorChannel(1) * channelStride, format.TensorChannel(2) * channelStride];
        for (var y = 0; y < height; y++)
        {
            var (top, bottom, dy) = rows[y];
            for (var x = 0; x < width; x++)
            {
                var (left, right, dx) = columns[x];
                var at = (y * width + x) * pixelStride;
                for (var c = 0; c < 3; c++)
                {
                    float topLeft = rgb[top * stride + left * 3 + c], topRight = rgb[top * stride + right * 3 + c];
                    float bottomLeft = rgb[bottom * stride + left * 3 + c], bottomRight = rgb[bottom * stride + right * 3 + c];
                    var upper = topLeft + (topRight - topLeft) * dx;
                    var lower = bottomLeft + (bottomRight - bottomLeft) * dx;
                    destination[target[c] + at] = normalization.Apply(upper + (lower - upper) * dy, c);
                }
            }
        }
    }

    /// <summary>For each output index: the two source indices and the weight of the second, as TF.js's CPU kernel computes them.</summary>
    internal static (int Low, int High, float Fraction)[] Coordinates(int inputSize, int outputSize, bool alignCorners)
    {
        var scale = alignCorners && outputSize > 1 ? (inputSize - 1) / (double)(outputSize - 1) : inputSize / (double)outputSize;
        var result = new (int, int, float)[outputSize];
        for (var i = 0; i < outputSize; i++)
        {
            var source = scale * i;
            var low = Math.Max(0, (int)Math.Floor(source));
            var high = Math.Min(inputSize - 1, (int)Math.Ceiling(source));
            result[i] = (Math.Min(low, inputSize - 1), high, (float)(source - low));
        }
        return result;
    }
}
