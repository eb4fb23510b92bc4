namespace Iris.Core.Imaging.Preprocessing;

/// <summary>Quarter and half turns of an image (a text line turned upright before it is read).</summary>
public static class Rotation
{
    /// <summary>numpy's rot90: the top row becomes the left column, read bottom to top.</summary>
    public static DecodedImage CounterClockwise(DecodedImage image)
    {
        int width = image.Width, height = image.Height;
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                // Source (x, y) lands at column y, row (width − 1 − x).
                image.Rgb.AsSpan((y * width + x) * 3, 3).CopyTo(rgb.AsSpan(((width - 1 - x) * height + y) * 3, 3));
        return image.WithPixels(height, width, rgb);
    }

    public static DecodedImage HalfTurn(DecodedImage image)
    {
        var count = image.Width * image.Height;
        var rgb = new byte[count * 3];
        for (var i = 0; i < count; i++)
            image.Rgb.AsSpan(i * 3, 3).CopyTo(rgb.AsSpan((count - 1 - i) * 3, 3));
        return image.WithPixels(image.Width, image.Height, rgb);
    }
}
