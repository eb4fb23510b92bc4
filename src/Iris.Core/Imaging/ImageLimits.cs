namespace Iris.Core.Imaging;

/// <summary>Bounds checked before any pixel is decoded, so hostile input costs milliseconds, not gigabytes.</summary>
public sealed record ImageLimits(long MaxBytes, long MaxPixels, TimeSpan DecodeTimeout)
{
    public static ImageLimits Default { get; } = new(20_000_000, 40_000_000, TimeSpan.FromSeconds(10));
}
