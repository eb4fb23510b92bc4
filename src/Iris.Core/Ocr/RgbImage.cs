using Iris.Core.Imaging;

namespace Iris.Core.Ocr;

/// <summary>A small interleaved RGB raster: the crop of one text line on its way to the recogniser.</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"An image needs at least 1×1 pixels; got {width}×{height}.");
        Width = width;
        Height = height;
        Pixels = pixels ?? new byte[width * height * 3];
        if (Pixels.Length < width * height * 3) throw new ArgumentException("Pixel buffer too small.", nameof(pixels));
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public static RgbImage From(DecodedImage image) => new(image.Width, image.Height, image.Rgb);

    /// <summary>numpy's rot90: the top row becomes the left column, read bottom to top.</summary>
    public RgbImage RotateCounterClockwise()
    {
        var result = new RgbImage(Height, Width);
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
            {
                // Source (x, y) lands at column y, row (Width − 1 − x).
                var source = (y * Width + x) * 3;
                var target = ((Width - 1 - x) * Height + y) * 3;
                Pixels.AsSpan(source, 3).CopyTo(result.Pixels.AsSpan(target, 3));
            }
        return result;
    }

    public RgbImage Rotate180()
    {
        var result = new RgbImage(Width, Height);
        var count = Width * Height;
        for (var i = 0; i < count; i++)
            Pixels.AsSpan(i * 3, 3).CopyTo(result.Pixels.AsSpan((count - 1 - i) * 3, 3));
        return result;
    }
}
