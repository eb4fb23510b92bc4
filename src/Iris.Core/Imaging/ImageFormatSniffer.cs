using System.Text;

namespace Iris.Core.Imaging;

/// <summary>
/// Identifies an image format from its magic bytes. File names and Content-Type headers are
/// never trusted: a text file named <c>.jpg</c> is still text.
/// </summary>
public static class ImageFormatSniffer
{
    public static ImageFormat? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
            return ImageFormat.Jpeg;
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            return ImageFormat.Png;
        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8))
            return ImageFormat.Gif;
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8))
            return ImageFormat.WebP;
        if (data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8))
            return ImageFormat.Tiff;
        // "BM" alone is too weak a signature (plenty of text starts with it), so the header's
        // declared DIB size must be one of the known BITMAPINFOHEADER variants as well.
        if (data.Length >= 18 && data[0] == (byte)'B' && data[1] == (byte)'M'
            && BitConverter.ToUInt32(data[14..18]) is 12 or 40 or 52 or 56 or 64 or 108 or 124)
            return ImageFormat.Bmp;
        if (data.Length >= 12 && data[4..8].SequenceEqual("ftyp"u8))
            return SniffIsoBaseMedia(data);
        if (LooksLikeSvg(data))
            return ImageFormat.Svg;
        return null;
    }

    // HEIF and AVIF share the ISO-BMFF container; the major brand (and compatible brands) tell them apart.
    private static ImageFormat? SniffIsoBaseMedia(ReadOnlySpan<byte> data)
    {
        var boxSize = (int)Math.Min((uint)(data[0] << 24 | data[1] << 16 | data[2] << 8 | data[3]), (uint)data.Length);
        var isHeif = false;
        for (var offset = 8; offset + 4 <= boxSize; offset += 4)
        {
            if (offset == 12) continue; // minor version, not a brand
            var brand = data.Slice(offset, 4);
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8))
                return ImageFormat.Avif;
            if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("mif1"u8)
                || brand.SequenceEqual("msf1"u8) || brand.SequenceEqual("heim"u8) || brand.SequenceEqual("heis"u8))
                isHeif = true;
        }
        return isHeif ? ImageFormat.Heif : null;
    }

    private static bool LooksLikeSvg(ReadOnlySpan<byte> data)
    {
        var head = Encoding.UTF8.GetString(data[..Math.Min(data.Length, 1024)]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (!head.StartsWith('<')) return false;
        return head.Contains("<svg", StringComparison.OrdinalIgnoreCase);
    }
}
