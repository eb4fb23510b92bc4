using Iris.Core.Imaging;
using Iris.Core.Inspection;

namespace Iris.Contracts;

/// <summary>The JSON document of <c>POST /v1/info</c> and <c>iris info --json</c>.</summary>
public sealed record InfoResponse(
    string Format, string MediaType, int Width, int Height, long FileBytes, int BitDepth, int Channels, bool HasAlpha, string ColorSpace,
    int Frames, bool Animated, int Orientation, ExifData? Exif, bool GpsPresent,
    IReadOnlyList<PaletteColor> DominantColors, double Brightness, double Contrast, double Colorfulness, Sharpness Sharpness, string Dhash,
    InfoTimingsDto TimingsMs)
{
    public static InfoResponse From(ImageInfo info, double decodeMs, double totalMs) => new(
        info.Format, info.MediaType, info.Width, info.Height, info.FileBytes, info.BitDepth, info.Channels, info.HasAlpha, info.ColorSpace,
        info.Frames, info.Animated, info.Orientation, info.Exif, info.GpsPresent,
        info.Statistics.DominantColors, info.Statistics.Brightness, info.Statistics.Contrast, info.Statistics.Colorfulness,
        info.Statistics.Sharpness, info.Statistics.DHash,
        new InfoTimingsDto(Ms(decodeMs), Ms(info.Timings.HeaderMs), Ms(info.Timings.StatisticsMs), Ms(totalMs)));

    private static double Ms(double v) => Math.Round(v, 2);
}

public sealed record InfoTimingsDto(double Decode, double Header, double Statistics, double Total);
