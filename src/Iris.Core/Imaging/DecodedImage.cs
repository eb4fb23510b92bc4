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
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Width × Height × 3 bytes, R G B per pixel.</summary>
    public byte[] Rgb { get; }

    public ImageFormat Format { get; }

    /// <summary>The EXIF orientation (1–8) that was applied; 1 when the image carried none.</summary>
    public int Orientation { get; }

    public long SourceBytes { get; }

    public int Stride => Width * 3;

    /// <summary>Other pixels (a resize, crop or turn of this image) with this image's provenance.</summary>
    public DecodedImage WithPixels(int width, int height, byte[] rgb) => new(width, height, rgb, Format, Orientation, SourceBytes);
}
