namespace Iris.Core.Imaging;

/// <summary>
/// Bounds checked before any pixel is decoded, so hostile input costs milliseconds, not gigabytes. Every place that
/// reads a header (the decoder, the header reader, the BMP reader, the transformer) calls <see cref="CheckDimensions"/>
/// before a loop over pixels can run, so no later stage sees an image wider, taller or thinner than these allow.
/// </summary>
public sealed record ImageLimits(long MaxBytes, long MaxPixels, TimeSpan DecodeTimeout)
{
    public static ImageLimits Default { get; } = new(20_000_000, 40_000_000, TimeSpan.FromSeconds(10));

    /// <summary>Widest image accepted. 32,768 keeps every full-size photo and a 40 MP panorama, and stays below the
    /// point where a row of RGB floats outgrows what the resamplers and tensor code size by width.</summary>
    public int MaxWidth { get; init; } = 32_768;

    public int MaxHeight { get; init; } = 32_768;

    /// <summary>Longer side over shorter side. Photos, panoramas and long screenshots stay under ~30:1, and thin strips
    /// (a 3000×2 rule or barcode row) are answered today, so the bound sits above them: it refuses what is left within
    /// MaxWidth only to make a model's resize round one side to nothing, such as 32,768×1.</summary>
    public double MaxAspectRatio { get; init; } = 2000;

    /// <summary>
    /// SVG is rasterised by librsvg in one call that libvips cannot interrupt, and its cost grows faster than its area
    /// (a 236-byte blur renders in 1.4 s at 2000×2000 but 40 s at 6000×6000), so a larger SVG is rendered at the scale
    /// that fits this many pixels: a vector drawing loses nothing a model needs.
    /// </summary>
    public long MaxSvgPixels { get; init; } = 4_000_000;

    /// <summary>Throws <see cref="ImageDimensionsTooLargeException"/> naming the first limit the declared size breaks.</summary>
    public void CheckDimensions(int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new CorruptImageException($"The image header declares an empty size {width}×{height}.");
        if (width > MaxWidth)
            throw new ImageDimensionsTooLargeException(width, height,
                $"The image header declares {width}×{height}; the widest accepted is {MaxWidth:N0} pixels (Images:MaxWidth).");
        if (height > MaxHeight)
            throw new ImageDimensionsTooLargeException(width, height,
                $"The image header declares {width}×{height}; the tallest accepted is {MaxHeight:N0} pixels (Images:MaxHeight).");
        if ((long)width * height > MaxPixels)
            throw new ImageDimensionsTooLargeException(width, height, MaxPixels);
        var ratio = (double)Math.Max(width, height) / Math.Min(width, height);
        if (ratio > MaxAspectRatio)
            throw new ImageDimensionsTooLargeException(width, height,
                $"The image header declares {width}×{height}, an aspect ratio of {ratio:0.#}:1; the limit is {MaxAspectRatio:0.#}:1 (Images:MaxAspectRatio).");
    }
}
