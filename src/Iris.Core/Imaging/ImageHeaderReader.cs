using System.Globalization;
using NetVips;

namespace Iris.Core.Imaging;

/// <summary>What an image file declares about itself, read from its header without decoding the pixels.</summary>
public sealed record ImageHeader(
    ImageFormat Format,
    int Width,
    int Height,
    int BitDepth,
    int Channels,
    bool HasAlpha,
    string ColorSpace,
    int Frames,
    int Orientation,
    long FileBytes,
    ExifData? Exif)
{
    /// <summary>Width as displayed: orientations 5–8 turn the stored image by 90°.</summary>
    public int DisplayWidth => Orientation >= 5 ? Height : Width;
    public int DisplayHeight => Orientation >= 5 ? Width : Height;
}

/// <summary>The EXIF fields people ask about. Every field is optional: most images carry only some of them.</summary>
public sealed record ExifData(
    string? Make, string? Model, string? LensMake, string? LensModel, string? Software,
    string? CaptureTime, int? Orientation, double? ExposureSeconds, double? FNumber, int? Iso, double? FocalLengthMm,
    GpsLocation? Gps);

public sealed record GpsLocation(double Latitude, double Longitude, double? AltitudeMeters);

/// <summary>
/// Reads an <see cref="ImageHeader"/> with libvips (header only, no pixel decoding) after the same byte limit and
/// content sniffing as <see cref="ImageDecoder"/>, and refuses sizes beyond <see cref="ImageLimits.CheckDimensions"/>. BMP, which the bundled libvips cannot open, is read by Iris' own reader.
/// </summary>
public static class ImageHeaderReader
{
    public static ImageHeader Read(byte[] data, ImageLimits limits)
    {
        if (data.Length == 0)
            throw new EmptyImageException();
        if (data.Length > limits.MaxBytes)
            throw new ImageTooLargeException(data.Length, limits.MaxBytes);
        var format = ImageFormatSniffer.Sniff(data)
            ?? throw new UnsupportedImageFormatException(
                "The data is not an image in a supported format (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF, SVG); " +
                "the format is detected from the file's content, not its name or Content-Type.");
        if (format == ImageFormat.Bmp)
        {
            var bmp = BmpDecoder.ReadHeader(data);
            limits.CheckDimensions(bmp.Width, bmp.Height);
            var alpha = bmp.BitsPerPixel == 32;
            return new ImageHeader(format, bmp.Width, bmp.Height, bmp.BitsPerPixel <= 8 ? bmp.BitsPerPixel : 8, alpha ? 4 : 3, alpha,
                "srgb", 1, 1, data.Length, null);
        }

        Image image;
        try
        {
            image = Image.NewFromBuffer(data, access: Enums.Access.Sequential);
        }
        catch (VipsException e)
        {
            throw new CorruptImageException($"The data looks like {format.Name().ToUpperInvariant()} but its header cannot be read: {e.Message.Split('\n')[0]}", e);
        }
        using (image)
        {
            var fields = new HashSet<string>(image.GetFields(), StringComparer.Ordinal);
            var orientation = fields.Contains("orientation") ? Math.Clamp((int)image.Get("orientation"), 1, 8) : 1;
            var frames = fields.Contains("n-pages") ? Math.Max(1, (int)image.Get("n-pages")) : 1;
            // For GIF, WebP and animated formats libvips reports one page's height when loading one page.
            var height = fields.Contains("page-height") ? (int)image.Get("page-height") : image.Height;
            limits.CheckDimensions(image.Width, height);
            var bitDepth = fields.Contains("bits-per-sample") ? (int)image.Get("bits-per-sample") : BitDepth(image.Format);
            var exif = fields.Any(f => f.StartsWith("exif-ifd", StringComparison.Ordinal)) ? ReadExif(image, fields) : null;
            return new ImageHeader(format, image.Width, height, bitDepth, image.Bands, image.HasAlpha(),
                image.Interpretation.ToString().ToLowerInvariant(), frames, orientation, data.Length, exif);
        }
    }

    private static int BitDepth(Enums.BandFormat format) => format switch
    {
        Enums.BandFormat.Uchar or Enums.BandFormat.Char => 8,
        Enums.BandFormat.Ushort or Enums.BandFormat.Short => 16,
        Enums.BandFormat.Double or Enums.BandFormat.Dpcomplex => 64,
        _ => 32,
    };

    private static ExifData ReadExif(Image image, HashSet<string> fields)
    {
        // libvips renders each tag as "raw value (formatted value, type, n components, n bytes)"; the raw part is parsed.
        string? Text(string name)
        {
            if (!fields.Contains(name) || image.Get(name) is not string value) return null;
            var open = value.IndexOf(" (", StringComparison.Ordinal);
            var raw = (open >= 0 ? value[..open] : value).Trim().TrimEnd('\0').Trim();
            return raw.Length == 0 ? null : raw;
        }
        double[]? Rationals(string name) => Text(name)?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ParseRational).ToArray() is { Length: > 0 } v
            && v.All(double.IsFinite) ? v : null;

        var captured = Text("exif-ifd2-DateTimeOriginal") ?? Text("exif-ifd2-DateTimeDigitized") ?? Text("exif-ifd0-DateTime");
        string? captureTime = null;
        if (captured is not null && DateTime.TryParseExact(captured, "yyyy:MM:dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            captureTime = time.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
            if (Text("exif-ifd2-OffsetTimeOriginal") is { Length: 6 } offset && (offset[0] is '+' or '-')) captureTime += offset;
        }

        GpsLocation? gps = null;
        if (Rationals("exif-ifd3-GPSLatitude") is { Length: 3 } lat && Rationals("exif-ifd3-GPSLongitude") is { Length: 3 } lon)
        {
            var latitude = lat[0] + lat[1] / 60 + lat[2] / 3600;
            var longitude = lon[0] + lon[1] / 60 + lon[2] / 3600;
            if (Text("exif-ifd3-GPSLatitudeRef") is "S") latitude = -latitude;
            if (Text("exif-ifd3-GPSLongitudeRef") is "W") longitude = -longitude;
            double? altitude = Rationals("exif-ifd3-GPSAltitude") is [var a] ? a : null;
            // AltitudeRef 1 means below sea level; libvips shows the byte as its number.
            if (altitude is not null && Text("exif-ifd3-GPSAltitudeRef") is "1") altitude = -altitude;
            gps = new GpsLocation(Math.Round(latitude, 7), Math.Round(longitude, 7), altitude is null ? null : Math.Round(altitude.Value, 2));
        }

        return new ExifData(
            Text("exif-ifd0-Make"), Text("exif-ifd0-Model"), Text("exif-ifd2-LensMake"), Text("exif-ifd2-LensModel"), Text("exif-ifd0-Software"),
            captureTime,
            int.TryParse(Text("exif-ifd0-Orientation"), out var orientation) ? orientation : null,
            Rationals("exif-ifd2-ExposureTime") is [var exposure] ? exposure : null,
            Rationals("exif-ifd2-FNumber") is [var fNumber] ? Math.Round(fNumber, 2) : null,
            int.TryParse(Text("exif-ifd2-ISOSpeedRatings") ?? Text("exif-ifd2-PhotographicSensitivity"), out var iso) ? iso : null,
            Rationals("exif-ifd2-FocalLength") is [var focal] ? Math.Round(focal, 2) : null,
            gps);
    }

    private static double ParseRational(string text)
    {
        var slash = text.IndexOf('/');
        if (slash < 0)
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain) ? plain : double.NaN;
        return double.TryParse(text[..slash], NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            && double.TryParse(text[(slash + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d != 0
            ? n / d : double.NaN;
    }
}
