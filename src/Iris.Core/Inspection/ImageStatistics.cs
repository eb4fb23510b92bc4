using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;

namespace Iris.Core.Inspection;

public sealed record PaletteColor(string Hex, int R, int G, int B, double Share);

/// <summary>Sharpness as the variance of the Laplacian, with the verdict against the configured threshold.</summary>
public sealed record Sharpness(double LaplacianVariance, bool Blurry, double Threshold);

/// <summary>
/// Pixel statistics. <see cref="Brightness"/> is the mean BT.601 luma on 0..1, <see cref="Contrast"/> its standard
/// deviation (RMS contrast) on 0..1, <see cref="Colorfulness"/> Hasler and Süsstrunk's metric (0 for grey; above ~100 is
/// very colourful), and <see cref="DHash"/> a 64-bit difference hash as 16 hex digits.
/// </summary>
public sealed record PixelStatistics(
    IReadOnlyList<PaletteColor> DominantColors, double Brightness, double Contrast, double Colorfulness, Sharpness Sharpness, string DHash);

/// <summary>
/// Computes <see cref="PixelStatistics"/> from a decoded image. Colour statistics use a thumbnail of at most
/// <see cref="ThumbnailSide"/> px; sharpness uses a greyscale copy of at most <see cref="SharpnessSide"/> px, so the
/// blur threshold means the same for a phone photo and a thumbnail of it.
/// </summary>
public static class ImageStatistics
{
    public const int ThumbnailSide = 256;
    public const int SharpnessSide = 1024;

    public static PixelStatistics Compute(DecodedImage image, int paletteSize, double blurThreshold)
    {
        var thumbPlan = ResizePlan.FitWithin(image.Width, image.Height, ThumbnailSide);
        var thumbnail = PillowResampler.Resize(image, thumbPlan).Rgb;
        var (brightness, contrast) = LumaMoments(thumbnail);
        var sharpPlan = ResizePlan.FitWithin(image.Width, image.Height, SharpnessSide);
        var sharpSource = sharpPlan.Width == image.Width && sharpPlan.Height == image.Height
            ? image.Rgb : PillowResampler.Resize(image, sharpPlan).Rgb;
        var variance = LaplacianVariance(Luma(sharpSource, sharpPlan.Width * sharpPlan.Height), sharpPlan.Width, sharpPlan.Height);
        return new PixelStatistics(
            DominantColors(thumbnail, paletteSize),
            Math.Round(brightness, 4),
            Math.Round(contrast, 4),
            Math.Round(Colorfulness(thumbnail), 2),
            new Sharpness(Math.Round(variance, 2), variance < blurThreshold, blurThreshold),
            DifferenceHash(image));
    }

    private static byte[] Luma(ReadOnlySpan<byte> rgb, int pixels)
    {
        var luma = new byte[pixels];
        for (int i = 0, at = 0; i < pixels; i++, at += 3)
            luma[i] = (byte)((299 * rgb[at] + 587 * rgb[at + 1] + 114 * rgb[at + 2] + 500) / 1000);
        return luma;
    }

    internal static (double Mean, double Std) LumaMoments(ReadOnlySpan<byte> rgb)
    {
        double sum = 0, squares = 0;
        var pixels = rgb.Length / 3;
        for (var at = 0; at < rgb.Length; at += 3)
        {
            var y = (0.299 * rgb[at] + 0.587 * rgb[at + 1] + 0.114 * rgb[at + 2]) / 255.0;
            sum += y;
            squares += y * y;
        }
        var mean = sum / pixels;
        return (mean, Math.Sqrt(Math.Max(0, squares / pixels - mean * mean)));
    }

    /// <summary>Hasler and Süsstrunk (2003): σ_rgyb + 0.3·μ_rgyb with rg = R − G and yb = (R + G)/2 − B.</summary>
    internal static double Colorfulness(ReadOnlySpan<byte> rgb)
    {
        double rgSum = 0, rgSquares = 0, ybSum = 0, ybSquares = 0;
        var pixels = rgb.Length / 3;
        for (var at = 0; at < rgb.Length; at += 3)
        {
            double r = rgb[at], g = rgb[at + 1], b = rgb[at + 2];
            var rg = r - g;
            var yb = 0.5 * (r + g) - b;
            rgSum += rg; rgSquares += rg * rg;
            ybSum += yb; ybSquares += yb * yb;
        }
        double rgMean = rgSum / pixels, ybMean = ybSum / pixels;
        var rgVariance = Math.Max(0, rgSquares / pixels - rgMean * rgMean);
        var ybVariance = Math.Max(0, ybSquares / pixels - ybMean * ybMean);
        return Math.Sqrt(rgVariance + ybVariance) + 0.3 * Math.Sqrt(rgMean * rgMean + ybMean * ybMean);
    }

    /// <summary>The variance of the 4-neighbour Laplacian (OpenCV's <c>Laplacian</c> with ksize 1) over the interior pixels.</summary>
    internal static double LaplacianVariance(byte[] grey, int width, int height)
    {
        if (width < 3 || height < 3) return 0;
        double sum = 0, squares = 0;
        for (var y = 1; y < height - 1; y++)
        {
            var row = y * width;
            for (var x = 1; x < width - 1; x++)
            {
                var i = row + x;
                double v = grey[i - 1] + grey[i + 1] + grey[i - width] + grey[i + width] - 4 * grey[i];
                sum += v;
                squares += v * v;
            }
        }
        var n = (double)(width - 2) * (height - 2);
        var mean = sum / n;
        return squares / n - mean * mean;
    }

    /// <summary>
    /// dHash (as the <c>imagehash</c> library computes it): greyscale at 9×8, one bit per horizontally adjacent pair,
    /// set where the right pixel is brighter. Near-duplicates (resized, recompressed) differ in a few of the 64 bits.
    /// </summary>
    public static string DifferenceHash(DecodedImage image)
    {
        var small = PillowResampler.Resize(image, ResizePlan.Stretch(9, 8)).Rgb;
        var grey = Luma(small, 72);
        ulong hash = 0;
        for (var y = 0; y < 8; y++)
            for (var x = 0; x < 8; x++)
                hash = (hash << 1) | (grey[y * 9 + x + 1] > grey[y * 9 + x] ? 1UL : 0UL);
        return hash.ToString("x16");
    }

    /// <summary>How many of the 64 bits two hashes differ in. Up to about 10 means the same picture.</summary>
    public static int HammingDistance(string a, string b) =>
        System.Numerics.BitOperations.PopCount(Convert.ToUInt64(a, 16) ^ Convert.ToUInt64(b, 16));

    /// <summary>
    /// k-means over a 5-bit-per-channel colour histogram of the thumbnail, seeded deterministically (the most common colour,
    /// then repeatedly the colour that is common and far from every seed), so the same image always gives the same palette.
    /// </summary>
    internal static List<PaletteColor> DominantColors(ReadOnlySpan<byte> rgb, int k)
    {
        var counts = new Dictionary<int, (long N, long R, long G, long B)>();
        for (var at = 0; at < rgb.Length; at += 3)
        {
            var key = (rgb[at] >> 3) << 10 | (rgb[at + 1] >> 3) << 5 | rgb[at + 2] >> 3;
            counts.TryGetValue(key, out var c);
            counts[key] = (c.N + 1, c.R + rgb[at], c.G + rgb[at + 1], c.B + rgb[at + 2]);
        }
        var bins = counts.OrderBy(p => p.Key).Select(p => (Weight: (double)p.Value.N,
            Color: (R: (double)p.Value.R / p.Value.N, G: (double)p.Value.G / p.Value.N, B: (double)p.Value.B / p.Value.N))).ToArray();
        var total = bins.Sum(b => b.Weight);
        k = Math.Min(k, bins.Length);

        static double Distance((double R, double G, double B) a, (double R, double G, double B) b) =>
            (a.R - b.R) * (a.R - b.R) + (a.G - b.G) * (a.G - b.G) + (a.B - b.B) * (a.B - b.B);

        var centers = new List<(double R, double G, double B)> { bins.MaxBy(b => b.Weight).Color };
        while (centers.Count < k)
            centers.Add(bins.MaxBy(b => b.Weight * centers.Min(c => Distance(b.Color, c))).Color);

        var assignment = new int[bins.Length];
        for (var iteration = 0; iteration < 12; iteration++)
        {
            for (var i = 0; i < bins.Length; i++)
            {
                var best = 0;
                for (var c = 1; c < centers.Count; c++)
                    if (Distance(bins[i].Color, centers[c]) < Distance(bins[i].Color, centers[best])) best = c;
                assignment[i] = best;
            }
            var moved = false;
            for (var c = 0; c < centers.Count; c++)
            {
                double w = 0, r = 0, g = 0, b = 0;
                for (var i = 0; i < bins.Length; i++)
                    if (assignment[i] == c) { w += bins[i].Weight; r += bins[i].Color.R * bins[i].Weight; g += bins[i].Color.G * bins[i].Weight; b += bins[i].Color.B * bins[i].Weight; }
                if (w == 0) continue;
                var next = (r / w, g / w, b / w);
                moved |= Distance(next, centers[c]) > 0.25;
                centers[c] = next;
            }
            if (!moved) break;
        }

        return centers.Select((c, index) => (Center: c, Weight: bins.Where((_, i) => assignment[i] == index).Sum(b => b.Weight)))
            .Where(c => c.Weight > 0)
            .OrderByDescending(c => c.Weight)
            .Select(c =>
            {
                int r = (int)Math.Round(c.Center.R), g = (int)Math.Round(c.Center.G), b = (int)Math.Round(c.Center.B);
                return new PaletteColor($"#{r:x2}{g:x2}{b:x2}", r, g, b, Math.Round(c.Weight / total, 4));
            })
            .ToList();
    }
}
