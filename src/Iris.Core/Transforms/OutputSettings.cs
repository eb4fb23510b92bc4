using Iris.Core.Imaging;
using NetVips;

namespace Iris.Core.Transforms;

/// <summary><c>source</c> keeps the input's format where it can be written; <c>auto</c> picks AVIF or WebP from the Accept header.</summary>
public enum OutputFormat { Source, Auto, Jpeg, Png, WebP, Avif, Heif, Tiff, Gif, Bmp }

/// <summary>What happens to an embedded colour profile: converted to sRGB and dropped (the default), or kept as it is.</summary>
public enum IccHandling { Srgb, Keep }

/// <summary>How the result is written, from the pipeline's <c>format</c>, <c>quality</c> and <c>metadata</c> operations.</summary>
public sealed record OutputSettings
{
    public OutputFormat Format { get; init; } = OutputFormat.Source;

    /// <summary>1–100 for JPEG, WebP, AVIF/HEIF, TIFF-JPEG and palette PNG; null means the format's default.</summary>
    public int? Quality { get; init; }

    /// <summary>Progressive JPEG, interlaced PNG/GIF.</summary>
    public bool Progressive { get; init; }

    /// <summary>JPEG/AVIF chroma subsampling: auto (4:2:0 below q90), on (always 4:2:0) or off (4:4:4).</summary>
    public Enums.ForeignSubsample Subsample { get; init; } = Enums.ForeignSubsample.Auto;

    /// <summary>zlib level 0–9 for PNG.</summary>
    public int PngCompression { get; init; } = 6;

    /// <summary>Quantise PNG to an 8-bit palette (much smaller, lossy).</summary>
    public bool Palette { get; init; }

    /// <summary>Lossless WebP or AVIF.</summary>
    public bool Lossless { get; init; }

    /// <summary>Encoder CPU effort, 0–9 (WebP uses 0–6); null means the format's default.</summary>
    public int? Effort { get; init; }

    public Enums.ForeignTiffCompression TiffCompression { get; init; } = Enums.ForeignTiffCompression.Lzw;

    /// <summary>Keep EXIF, XMP, IPTC and the colour profile. Off by default: metadata can leak location and camera details.</summary>
    public bool KeepMetadata { get; init; }

    public IccHandling Icc { get; init; } = IccHandling.Srgb;

    /// <summary>What transparent pixels become in a format without alpha (JPEG). Default white.</summary>
    public Rgba? Background { get; init; }
}

/// <summary>The encoders the bundled libvips actually has, found by encoding a tiny image once (HEVC, for one, is often left out).</summary>
public static class OutputFormats
{
    private static readonly Lazy<IReadOnlySet<ImageFormat>> Probed = new(Probe);

    public static IReadOnlySet<ImageFormat> Supported => Probed.Value;

    public static bool IsSupported(ImageFormat format) => Supported.Contains(format);

    private static IReadOnlySet<ImageFormat> Probe()
    {
        var supported = new HashSet<ImageFormat>();
        using var probe = Image.Black(8, 8, bands: 3).Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
        foreach (var format in new[] { ImageFormat.Jpeg, ImageFormat.Png, ImageFormat.WebP, ImageFormat.Avif, ImageFormat.Heif, ImageFormat.Tiff, ImageFormat.Gif, ImageFormat.Bmp })
        {
            try
            {
                if (ImageEncoder.Encode(probe, format, new OutputSettings(), 50).Length > 0)
                    supported.Add(format);
            }
            catch (VipsException)
            {
            }
        }
        return supported;
    }
}

/// <summary>Writes the final image in the chosen format with the pipeline's output settings.</summary>
public static class ImageEncoder
{
    public static bool SupportsAlpha(ImageFormat format) => format is not (ImageFormat.Jpeg or ImageFormat.Bmp);

    public static byte[] Encode(Image image, ImageFormat format, OutputSettings s, int defaultQuality)
    {
        var keep = s.KeepMetadata ? Enums.ForeignKeep.All : s.Icc == IccHandling.Keep ? Enums.ForeignKeep.Icc : Enums.ForeignKeep.None;
        var q = s.Quality ?? defaultQuality;
        return format switch
        {
            ImageFormat.Jpeg => image.JpegsaveBuffer(q: q, interlace: s.Progressive, subsampleMode: s.Subsample, keep: keep),
            ImageFormat.Png => image.PngsaveBuffer(compression: s.PngCompression, interlace: s.Progressive, palette: s.Palette,
                q: s.Palette ? q : null, effort: s.Palette ? Math.Clamp(s.Effort ?? 7, 1, 10) : null, keep: keep),
            ImageFormat.WebP => image.WebpsaveBuffer(q: q, lossless: s.Lossless, effort: Math.Min(s.Effort ?? 4, 6), keep: keep),
            ImageFormat.Avif => image.HeifsaveBuffer(q: s.Quality ?? Math.Min(defaultQuality, 60), lossless: s.Lossless,
                compression: Enums.ForeignHeifCompression.Av1, effort: s.Effort ?? 2, subsampleMode: s.Subsample, keep: keep),
            ImageFormat.Heif => image.HeifsaveBuffer(q: q, lossless: s.Lossless, compression: Enums.ForeignHeifCompression.Hevc,
                effort: s.Effort ?? 4, subsampleMode: s.Subsample, keep: keep),
            ImageFormat.Tiff => image.TiffsaveBuffer(compression: s.TiffCompression, q: q, keep: keep),
            ImageFormat.Gif => image.GifsaveBuffer(interlace: s.Progressive, effort: s.Effort is { } e ? Math.Clamp(e, 1, 10) : null, keep: keep),
            ImageFormat.Bmp => BmpEncoder.Encode(image),
            _ => throw new OutputFormatUnsupportedException($"Iris cannot write {format.Name().ToUpperInvariant()} images."),
        };
    }
}
