using System.Buffers;
using System.Runtime.InteropServices;

namespace Iris.Core.Imaging;

/// <summary>
/// JPEG decoding through libjpeg-turbo's TurboJPEG API (<c>libturbojpeg.so.0</c>, Debian's <c>libturbojpeg0</c>), when the
/// system has it. It decodes with the same library and the same settings as libvips' <c>jpegload</c> (accurate integer
/// IDCT, fancy upsampling, DCT scaling for shrink-on-load), so the pixels are identical byte for byte
/// (<c>TurboJpegTests</c>), at about half libvips' CPU: libvips hands each strip of a JPEG between its threads, and the
/// libjpeg-turbo bundled with NetVips.Native decodes without SIMD.
/// </summary>
/// <remarks>
/// Only what decodes cleanly is taken: a warning (a truncated or damaged file), a colour space other than YCbCr, RGB or
/// grey, or a size that does not match what libvips' header said returns false, and <see cref="ImageDecoder"/> decodes
/// the file with libvips instead, whose error handling (<c>fail_on=truncated</c>) decides. Progressive files are limited
/// to 500 scans (TJFLAG_LIMITSCANS), the guard libjpeg-turbo provides against scan bombs.
/// </remarks>
public sealed class TurboJpeg
{
    private const int PixelFormatRgb = 0;                 // TJPF_RGB
    private const int FlagStopOnWarning = 1 << 13;        // TJFLAG_STOPONWARNING
    private const int FlagLimitScans = 1 << 15;           // TJFLAG_LIMITSCANS

    private const string Library = "libturbojpeg.so.0";

    private static readonly Lazy<TurboJpeg?> System = new(Load);

    private TurboJpeg() { }

    [DllImport(Library, EntryPoint = "tjInitDecompress")]
    private static extern nint InitDecompress();

    [DllImport(Library, EntryPoint = "tjDestroy")]
    private static extern int Destroy(nint handle);

    [DllImport(Library, EntryPoint = "tjDecompressHeader3")]
    private static extern int DecompressHeader(nint handle, byte[] jpeg, nuint size, out int width, out int height, out int subsampling, out int colourSpace);

    [DllImport(Library, EntryPoint = "tjDecompress2")]
    private static extern int Decompress(nint handle, byte[] jpeg, nuint size, byte[] target, int width, int pitch, int height, int pixelFormat, int flags);

    /// <summary>The system's TurboJPEG, or null when <c>libturbojpeg.so.0</c> is not installed (or lacks the 2.1 API).</summary>
    public static TurboJpeg? Installed => System.Value;

    /// <summary>What /health says about the JPEG decoder in use, given Images:TurboJpeg.</summary>
    public static string Describe(bool requested) =>
        !requested ? "libvips (Images:TurboJpeg=false)"
        : Installed is null ? "libvips (libturbojpeg.so.0 is not installed: apt-get install libturbojpeg0 halves the JPEG decode's CPU)"
        : "libjpeg-turbo's TurboJPEG (libturbojpeg.so.0); libvips for rotated, CMYK or damaged files";

    private static TurboJpeg? Load()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libturbojpeg.so.0", out var library)) return null;
        foreach (var name in new[] { "tjInitDecompress", "tjDestroy", "tjDecompressHeader3", "tjDecompress2" })
            if (!NativeLibrary.TryGetExport(library, name, out _))
                return null;
        return new TurboJpeg();
    }

    /// <summary>
    /// The size of <paramref name="jpeg"/> from its frame header, when it is a JPEG TurboJPEG decodes (YCbCr, RGB or grey);
    /// false otherwise, and for a header TurboJPEG cannot read.
    /// </summary>
    public bool TryReadHeader(byte[] jpeg, out int width, out int height)
    {
        (width, height) = (0, 0);
        var handle = InitDecompress();
        if (handle == 0) return false;
        try
        {
            return DecompressHeader(handle, jpeg, (nuint)jpeg.Length, out width, out height, out _, out var colourSpace) == 0
                && colourSpace is 0 or 1 or 2 && width > 0 && height > 0;
        }
        finally
        {
            Destroy(handle);
        }
    }

    /// <summary>
    /// Decodes <paramref name="jpeg"/> to interleaved 8-bit RGB of exactly <paramref name="width"/>×<paramref name="height"/>
    /// (the full size, or the size DCT scaling by 2, 4 or 8 gives); false, with nothing decoded, when it cannot do so cleanly.
    /// </summary>
    public bool TryDecode(byte[] jpeg, int width, int height, out byte[] rgb)
    {
        rgb = [];
        var handle = InitDecompress();
        if (handle == 0) return false;
        try
        {
            var size = (nuint)jpeg.Length;
            if (DecompressHeader(handle, jpeg, size, out var fullWidth, out var fullHeight, out _, out var colourSpace) != 0)
                return false;
            // TJCS_RGB, TJCS_YCbCr, TJCS_GRAY; CMYK and YCCK are libvips' to convert.
            if (colourSpace is not (0 or 1 or 2)) return false;
            if (ScaleDenominator(fullWidth, fullHeight, width, height) is not { } denominator) return false;
            // libjpeg rounds a scaled size up; libvips rounds it down and drops the partial last column and row.
            int decodedWidth = (fullWidth + denominator - 1) / denominator, decodedHeight = (fullHeight + denominator - 1) / denominator;
            var exact = decodedWidth == width && decodedHeight == height;
            // Every consumer may take Rgb.Length as the image, so a cropped decode goes through a scratch buffer.
            var decoded = exact ? GC.AllocateUninitializedArray<byte>(checked(width * height * 3)) : ArrayPool<byte>.Shared.Rent(checked(decodedWidth * decodedHeight * 3));
            try
            {
                // Asked for this size, TurboJPEG picks the largest scaling factor that fits, which is 1/denominator.
                if (Decompress(handle, jpeg, size, decoded, decodedWidth, 0, decodedHeight, PixelFormatRgb, FlagStopOnWarning | FlagLimitScans) != 0)
                    return false;
                if (exact)
                {
                    rgb = decoded;
                    return true;
                }
                rgb = GC.AllocateUninitializedArray<byte>(checked(width * height * 3));
                for (var row = 0; row < height; row++)
                    decoded.AsSpan(row * decodedWidth * 3, width * 3).CopyTo(rgb.AsSpan(row * width * 3));
                return true;
            }
            finally
            {
                if (!exact) ArrayPool<byte>.Shared.Return(decoded);
            }
        }
        finally
        {
            Destroy(handle);
        }
    }

    /// <summary>
    /// The DCT scaling (1, 2, 4 or 8) that gives width×height, rounded up (libjpeg) or down (libvips); null for any other size.
    /// </summary>
    /// <remarks>
    /// TurboJPEG also has the factors in between (3/8, 5/8…); below 16 pixels a side one of those can round to the same size
    /// as a power of two and would be picked instead, so such tiny images are decoded whole only.
    /// </remarks>
    private static int? ScaleDenominator(int fullWidth, int fullHeight, int width, int height)
    {
        if (width == fullWidth && height == fullHeight) return 1;
        if (fullWidth < 16 || fullHeight < 16) return null;
        foreach (var denominator in (ReadOnlySpan<int>)[2, 4, 8])
        {
            bool Fits(int full, int scaled) => scaled == full / denominator || scaled == (full + denominator - 1) / denominator;
            if (Fits(fullWidth, width) && Fits(fullHeight, height)) return denominator;
        }
        return null;
    }
}
