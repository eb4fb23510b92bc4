namespace Iris.Core.Imaging;

/// <summary>
/// Pillow's <c>Image.resize</c> for 8-bit RGB, reproduced bit for bit: the same filters and supports, the same
/// coefficient rounding to 22-bit fixed point, horizontal pass then vertical pass with clipping to 0–255 after each.
/// Hugging Face image processors resize through Pillow, so a model's pixels only match the reference this way.
/// </summary>
public static class PilResampler
{
    /// <summary>Pillow's resample codes, which <c>preprocessor_config.json</c> stores as <c>resample</c>.</summary>
    public enum Filter { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 }

    private const int PrecisionBits = 32 - 8 - 2;

    public static DecodedImage Resize(DecodedImage image, int width, int height, Filter filter)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), $"Target size {width}×{height} must be positive.");
        // Pillow returns a copy when the size does not change: no filtering at all.
        if (width == image.Width && height == image.Height) return image;
        var rgb = filter == Filter.Nearest
            ? ResizeNearest(image, width, height)
            : ResizeFiltered(image, width, height, filter);
        return new DecodedImage(width, height, rgb, image.Format, image.Orientation, image.SourceBytes);
    }

    /// <summary>A region of <paramref name="image"/>; parts outside the image are black, as Pillow's crop pads them.</summary>
    public static DecodedImage Crop(DecodedImage image, int left, int top, int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            var sy = top + y;
            if (sy < 0 || sy >= image.Height) continue;
            for (var x = 0; x < width; x++)
            {
                var sx = left + x;
                if (sx < 0 || sx >= image.Width) continue;
                var s = sy * image.Stride + sx * 3;
                var d = (y * width + x) * 3;
                rgb[d] = image.Rgb[s];
                rgb[d + 1] = image.Rgb[s + 1];
                rgb[d + 2] = image.Rgb[s + 2];
            }
        }
        return new DecodedImage(width, height, rgb, image.Format, image.Orientation, image.SourceBytes);
    }

    private static byte[] ResizeNearest(DecodedImage image, int width, int height)
    {
        // Pillow's ImagingScaleAffine: source positions are accumulated step by step from the first pixel centre
        // (not multiplied out), then truncated; the accumulated rounding decides ties, so it is repeated here.
        var rgb = new byte[width * height * 3];
        double sx = (double)image.Width / width, sy = (double)image.Height / height;
        var columns = new int[width];
        var xo = sx * 0.5;
        for (var x = 0; x < width; x++, xo += sx) columns[x] = Math.Min(image.Width - 1, (int)xo);
        var yo = sy * 0.5;
        for (var y = 0; y < height; y++, yo += sy)
        {
            var iy = Math.Min(image.Height - 1, (int)yo);
            for (var x = 0; x < width; x++)
                Buffer.BlockCopy(image.Rgb, iy * image.Stride + columns[x] * 3, rgb, (y * width + x) * 3, 3);
        }
        return rgb;
    }

    private static byte[] ResizeFiltered(DecodedImage image, int width, int height, Filter filter)
    {
        var (kernel, support) = Kernel(filter);
        var source = image.Rgb;
        int sourceWidth = image.Width, sourceHeight = image.Height;

        var (vBounds, vCoefficients, vSize) = Coefficients(sourceHeight, height, kernel, support);
        int firstRow = vBounds[0], lastRow = vBounds[(height - 1) * 2] + vBounds[(height - 1) * 2 + 1];

        // Horizontal pass, over only the rows the vertical pass will read.
        byte[] temp;
        int tempWidth, tempHeight, rowOffset;
        if (width != sourceWidth)
        {
            var (hBounds, hCoefficients, hSize) = Coefficients(sourceWidth, width, kernel, support);
            tempWidth = width;
            tempHeight = lastRow - firstRow;
            temp = new byte[tempWidth * tempHeight * 3];
            for (var y = 0; y < tempHeight; y++)
            {
                var inRow = (y + firstRow) * sourceWidth * 3;
                var outRow = y * tempWidth * 3;
                for (var x = 0; x < width; x++)
                {
                    int xmin = hBounds[x * 2], xcount = hBounds[x * 2 + 1], k = x * hSize;
                    int r = 1 << (PrecisionBits - 1), g = r, b = r;
                    for (var i = 0; i < xcount; i++)
                    {
                        var p = inRow + (xmin + i) * 3;
                        var c = hCoefficients[k + i];
                        r += source[p] * c;
                        g += source[p + 1] * c;
                        b += source[p + 2] * c;
                    }
                    temp[outRow + x * 3] = Clip8(r);
                    temp[outRow + x * 3 + 1] = Clip8(g);
                    temp[outRow + x * 3 + 2] = Clip8(b);
                }
            }
            rowOffset = firstRow;
        }
        else
        {
            temp = source;
            tempWidth = sourceWidth;
            tempHeight = sourceHeight;
            rowOffset = 0;
        }

        // Only the width changed (the same size never gets here): Pillow skips the vertical pass.
        if (height == sourceHeight) return temp;

        var output = new byte[width * height * 3];
        var stride = tempWidth * 3;
        for (var y = 0; y < height; y++)
        {
            int ymin = vBounds[y * 2] - rowOffset, ycount = vBounds[y * 2 + 1], k = y * vSize;
            for (var x = 0; x < stride; x++)
            {
                var sum = 1 << (PrecisionBits - 1);
                for (var i = 0; i < ycount; i++)
                    sum += temp[(ymin + i) * stride + x] * vCoefficients[k + i];
                output[y * stride + x] = Clip8(sum);
            }
        }
        return output;
    }

    private static byte Clip8(int value)
    {
        var v = value >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    /// <summary>Pillow's <c>precompute_coeffs</c> and <c>normalize_coeffs_8bpc</c>: per output pixel, the first source index, the count, and fixed-point weights.</summary>
    internal static (int[] Bounds, int[] Coefficients, int KernelSize) Coefficients(int inSize, int outSize, Func<double, double> kernel, double filterSupport)
    {
        var scale = (double)inSize / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = filterSupport * filterScale;
        var kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var weights = new double[outSize * kernelSize];
        for (var xx = 0; xx < outSize; xx++)
        {
            var center = (xx + 0.5) * scale;
            var ss = 1.0 / filterScale;
            var xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            var xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            var total = 0.0;
            for (var x = 0; x < xmax; x++)
            {
                var w = kernel((x + xmin - center + 0.5) * ss);
                weights[xx * kernelSize + x] = w;
                total += w;
            }
            for (var x = 0; x < xmax; x++)
                if (total != 0.0) weights[xx * kernelSize + x] /= total;
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        var fixedPoint = new int[weights.Length];
        for (var i = 0; i < weights.Length; i++)
            fixedPoint[i] = weights[i] < 0
                ? (int)(-0.5 + weights[i] * (1 << PrecisionBits))
                : (int)(0.5 + weights[i] * (1 << PrecisionBits));
        return (bounds, fixedPoint, kernelSize);
    }

    private static (Func<double, double> Kernel, double Support) Kernel(Filter filter) => filter switch
    {
        Filter.Box => (x => x > -0.5 && x <= 0.5 ? 1.0 : 0.0, 0.5),
        Filter.Bilinear => (x => Math.Abs(x) < 1.0 ? 1.0 - Math.Abs(x) : 0.0, 1.0),
        Filter.Hamming => (Hamming, 1.0),
        Filter.Bicubic => (Bicubic, 2.0),
        Filter.Lanczos => (Lanczos, 3.0),
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
