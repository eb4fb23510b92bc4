namespace Iris.Core.Imaging;

/// <summary>An image container format, as identified from the first bytes of the data.</summary>
public enum ImageFormat
{
    Jpeg,
    Png,
    Gif,
    WebP,
    Tiff,
    Bmp,
    Heif,
    Avif,
    Svg,
}

public static class ImageFormatExtensions
{
    public static string MediaType(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Png => "image/png",
        ImageFormat.Gif => "image/gif",
        ImageFormat.WebP => "image/webp",
        ImageFormat.Tiff => "image/tiff",
        ImageFormat.Bmp => "image/bmp",
        ImageFormat.Heif => "image/heif",
        ImageFormat.Avif => "image/avif",
        ImageFormat.Svg => "image/svg+xml",
        _ => "application/octet-stream",
    };

    public static string Name(this ImageFormat format) => format.ToString().ToLowerInvariant();
}
