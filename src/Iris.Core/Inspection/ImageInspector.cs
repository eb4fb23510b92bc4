using System.Diagnostics;
using Iris.Core.Imaging;

namespace Iris.Core.Inspection;

public sealed record InspectionParameters(bool IncludeGps);

public sealed record InspectionSettings(int PaletteSize, double BlurThreshold);

/// <summary>
/// Everything Iris can tell about an image without a model. <see cref="Width"/> and <see cref="Height"/> are as displayed
/// (after EXIF orientation); the stored size is in the header. <see cref="GpsPresent"/> says whether the file carries a
/// location even when it is left out.
/// </summary>
public sealed record ImageInfo(
    string Format, string MediaType, int Width, int Height, long FileBytes, int BitDepth, int Channels, bool HasAlpha, string ColorSpace,
    int Frames, bool Animated, int Orientation, ExifData? Exif, bool GpsPresent, PixelStatistics Statistics, InspectionTimings Timings);

public sealed record InspectionTimings(double HeaderMs, double StatisticsMs);

/// <summary>Header fields (libvips) plus pixel statistics of the decoded image.</summary>
public sealed class ImageInspector(ImageLimits limits, InspectionSettings settings)
{
    public InspectionSettings Settings => settings;

    /// <summary>Reads the header first: a file whose header is unreadable is rejected before its pixels are decoded.</summary>
    public ImageHeader ReadHeader(byte[] data) => ImageHeaderReader.Read(data, limits);

    public ImageInfo Inspect(ImageHeader header, DecodedImage image, InspectionParameters parameters, double headerMs = 0)
    {
        var stopwatch = Stopwatch.StartNew();
        var statistics = ImageStatistics.Compute(image, settings.PaletteSize, settings.BlurThreshold);
        var exif = header.Exif;
        var gpsPresent = exif?.Gps is not null;
        if (exif is not null && !parameters.IncludeGps) exif = exif with { Gps = null };
        return new ImageInfo(
            header.Format.Name(), header.Format.MediaType(), image.Width, image.Height, header.FileBytes, header.BitDepth, header.Channels,
            header.HasAlpha, header.ColorSpace, header.Frames,
            header.Frames > 1 && header.Format is ImageFormat.Gif or ImageFormat.WebP,
            header.Orientation, exif, gpsPresent, statistics, new InspectionTimings(headerMs, stopwatch.Elapsed.TotalMilliseconds));
    }
}
