namespace Iris.Core.Imaging;

/// <summary>
/// An image decoded to 8-bit sRGB, interleaved RGB, rows top to bottom, already turned upright
/// according to its EXIF orientation. This is the one pixel form every model's preprocessing reads.
/// </summary>
public sealed class DecodedImage
{
    public DecodedImage(int width, int height, byte[] rgb, ImageFormat format, int orientation, long sourceBytes)
    {
        if (width < 1 || height < 1)
            throw new ArgumentOutOfRangeException(nameof(width), $"An image needs at least 1×1 pixels; got {width}×{height}.");
        if (rgb.Length < (long)width * height * 3)
            throw new ArgumentException($"Pixel buffer holds {rgb.Length} bytes; {width}×{height} RGB needs {(long)width * height * 3}.", nameof(rgb));
        Width = width;
        Height = height;
        Rgb = rgb;
        Format = format;
        Orientation = orientation;
        SourceBytes = sourceBytes;
        OriginalWidth = width;
        OriginalHeight = height;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>
    /// The upright size of the image in its file. Larger than <see cref="Width"/>×<see cref="Height"/> when it was shrunk on
    /// load for a task that needs fewer pixels; whatever a task reports in pixels (boxes, sizes) is in this size.
    /// </summary>
    public int OriginalWidth { get; init; }

    public int OriginalHeight { get; init; }

    /// <summary>True when the pixels are fewer than the file's (shrink-on-load).</summary>
    public bool IsShrunk => Width != OriginalWidth || Height != OriginalHeight;

    /// <summary>
    /// Original pixels per decoded pixel, across and down: a coordinate in these pixels times this is one in the original
    /// image. (2, 2) for a JPEG decoded at half size by DCT scaling, whose last block may be partial, so it is the factor
    /// the decoder used, not the ratio of the sizes.
    /// </summary>
    public (double X, double Y) ToOriginalScale { get; init; } = (1, 1);

    /// <summary>Width × Height × 3 bytes, R G B per pixel.</summary>
    public byte[] Rgb { get; }

    public ImageFormat Format { get; }

    /// <summary>The EXIF orientation (1–8) that was applied; 1 when the image carried none.</summary>
    public int Orientation { get; }

    public long SourceBytes { get; }

    /// <summary>The library that made the pixels: <c>libvips</c>, <c>turbojpeg</c> (Images:TurboJpeg) or <c>bmp</c> (Iris's own reader).</summary>
    public string DecodedBy { get; init; } = "libvips";

    public int Stride => Width * 3;

    /// <summary>Other pixels (a resize, crop or turn of this image) with this image's provenance (its original size is that of the new pixels).</summary>
    public DecodedImage WithPixels(int width, int height, byte[] rgb) => new(width, height, rgb, Format, Orientation, SourceBytes);
}
