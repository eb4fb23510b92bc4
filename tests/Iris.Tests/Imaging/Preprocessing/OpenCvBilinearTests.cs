using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;

namespace Iris.Tests.Imaging.Preprocessing;

/// <summary>
/// The resize is separable, gathers eight columns at a time with AVX2 and normalises whole rows in double-precision
/// vectors; these tests hold every path to the plain per-sample formula, bit for bit: both layouts, both channel orders,
/// normalised or not, down- and upscaling, padded rows (PP-OCR), widths that leave a scalar tail, and each row's last
/// pixel, where the gather's fourth byte would lie past the row.
/// </summary>
public class OpenCvBilinearTests
{
    private static readonly PixelNormalization ImageNet = new(1.0 / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    [Theory]
    [InlineData(768, 576, 416, 312, 416, 416, TensorLayout.Nchw, true, false, 0)]
    [InlineData(768, 576, 960, 720, 960, 736, TensorLayout.Nchw, false, true, 0)]
    [InlineData(37, 29, 101, 53, 104, 60, TensorLayout.Nchw, false, true, 5)]
    [InlineData(640, 48, 203, 48, 320, 48, TensorLayout.Nchw, true, true, 0)]
    [InlineData(333, 97, 125, 61, 130, 64, TensorLayout.Nhwc, true, true, 3)]
    [InlineData(9, 9, 9, 9, 9, 9, TensorLayout.Nhwc, false, false, 0)]
    [InlineData(1, 1, 17, 3, 17, 3, TensorLayout.Nchw, false, true, 0)]
    public void Write_equals_the_per_sample_formula_bit_for_bit(int width, int height, int resizedWidth, int resizedHeight,
        int tensorWidth, int tensorHeight, TensorLayout layout, bool bgr, bool normalised, int padRows)
    {
        var random = new Random(width * 31 + height * 7 + padRows);
        var rgb = new byte[width * height * 3];
        random.NextBytes(rgb);
        var image = new DecodedImage(width, height, rgb, ImageFormat.Png, 1, rgb.Length);
        var format = new TensorFormat(layout, bgr, normalised ? ImageNet : PixelNormalization.None);
        var actual = new float[3 * tensorWidth * tensorHeight];
        var expected = new float[actual.Length];
        Array.Fill(actual, -7f);
        Array.Fill(expected, -7f);

        OpenCvBilinear.Write(image, resizedWidth, resizedHeight, format, actual, tensorWidth, tensorHeight, padRows);
        ReferenceWrite(image, resizedWidth, resizedHeight, format, expected, tensorWidth, tensorHeight, padRows);

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Normalising_a_span_rounds_exactly_as_normalising_each_value()
    {
        var random = new Random(5);
        var values = Enumerable.Range(0, 256).Select(v => (float)v)
            .Concat(Enumerable.Range(0, 4000).Select(_ => (float)(random.NextDouble() * 255)))
            .ToArray();
        var normalisations = new[] { ImageNet, new PixelNormalization(1.0 / 255, [0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]), new PixelNormalization(1.0 / 127.5, [1, 1, 1]) };
        foreach (var normalisation in normalisations)
            for (var c = 0; c < 3; c++)
            {
                var span = (float[])values.Clone();
                normalisation.Apply(span.AsSpan(), c);
                Assert.Equal(values.Select(v => normalisation.Apply(v, c)).ToArray(), span);
            }
    }

    /// <summary>OpenCV's INTER_LINEAR one sample at a time, with padded rows repeating the edge rows: what any faster version must equal.</summary>
    internal static void ReferenceWrite(DecodedImage image, int resizedWidth, int resizedHeight, TensorFormat format, float[] tensor,
        int tensorWidth, int tensorHeight, int padRows)
    {
        var sourceHeight = image.Height + 2 * padRows;
        static (int, float) Source(int destination, double scale, int size)
        {
            var f = (destination + 0.5) * scale - 0.5;
            var i = (int)Math.Floor(f);
            if (i < 0) return (0, 0f);
            if (i >= size - 1) return (size - 1, 0f);
            return (i, (float)(f - i));
        }
        int Row(int padded) => Math.Clamp(padded - padRows, 0, image.Height - 1);
        for (var y = 0; y < resizedHeight; y++)
        {
            var (sy, fy) = Source(y, (double)sourceHeight / resizedHeight, sourceHeight);
            int row0 = Row(sy), row1 = Row(Math.Min(sy + 1, sourceHeight - 1));
            for (var x = 0; x < resizedWidth; x++)
            {
                var (sx, fx) = Source(x, (double)image.Width / resizedWidth, image.Width);
                var sx1 = sx + 1 < image.Width ? sx + 1 : sx;
                for (var c = 0; c < 3; c++)
                {
                    int P(int row, int column) => image.Rgb[row * image.Width * 3 + column * 3 + c];
                    var top = P(row0, sx) + (P(row0, sx1) - P(row0, sx)) * fx;
                    var bottom = P(row1, sx) + (P(row1, sx1) - P(row1, sx)) * fx;
                    var value = format.Normalization.Apply(top + (bottom - top) * fy, c);
                    var channel = format.TensorChannel(c);
                    var at = format.Layout == TensorLayout.Nchw
                        ? channel * tensorWidth * tensorHeight + y * tensorWidth + x
                        : (y * tensorWidth + x) * 3 + channel;
                    tensor[at] = value;
                }
            }
        }
    }
}
