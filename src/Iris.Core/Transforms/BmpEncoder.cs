using System.Buffers.Binary;
using NetVips;

namespace Iris.Core.Transforms;

/// <summary>
/// Writes 24-bit uncompressed Windows BMP (BITMAPINFOHEADER, bottom-up rows padded to 4 bytes), the variant every BMP
/// reader accepts. The libvips bundled with NetVips would save BMP only through ImageMagick, which it is built without
/// (see <see cref="Imaging.BmpDecoder"/> for the reading side). Alpha is flattened before this runs
/// (<see cref="ImageEncoder.SupportsAlpha"/>); grey images are written as three equal channels, 16-bit ones scaled to 8.
/// </summary>
public static class BmpEncoder
{
    private const int FileHeaderBytes = 14;
    private const int InfoHeaderBytes = 40;
    private const int PixelsPerMetre = 2835; // 72 dpi, what most writers put there

    public static byte[] Encode(Image image)
    {
        using var rgb = ToRgb8(image);
        int width = rgb.Width, height = rgb.Height;
        var stride = (width * 3 + 3) & ~3;
        var size = FileHeaderBytes + InfoHeaderBytes + (long)stride * height;
        // The header's sizes are 32-bit: a larger file would be unreadable.
        if (size > int.MaxValue)
            throw new OutputTooLargeException($"A BMP of {width}×{height} would exceed the format's 2 GiB limit; choose another format or a smaller size.", "format");
        var pixels = rgb.WriteToMemory<byte>();
        var file = new byte[size];
        var span = file.AsSpan();
        span[0] = (byte)'B';
        span[1] = (byte)'M';
        BinaryPrimitives.WriteUInt32LittleEndian(span[2..], (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(span[10..], FileHeaderBytes + InfoHeaderBytes);
        var info = span[FileHeaderBytes..];
        BinaryPrimitives.WriteUInt32LittleEndian(info, InfoHeaderBytes);
        BinaryPrimitives.WriteInt32LittleEndian(info[4..], width);
        BinaryPrimitives.WriteInt32LittleEndian(info[8..], height); // positive: rows stored bottom-up
        BinaryPrimitives.WriteUInt16LittleEndian(info[12..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(info[14..], 24);
        BinaryPrimitives.WriteUInt32LittleEndian(info[20..], (uint)(stride * height));
        BinaryPrimitives.WriteInt32LittleEndian(info[24..], PixelsPerMetre);
        BinaryPrimitives.WriteInt32LittleEndian(info[28..], PixelsPerMetre);
        var rows = span[(FileHeaderBytes + InfoHeaderBytes)..];
        for (var y = 0; y < height; y++)
        {
            var source = pixels.AsSpan((height - 1 - y) * width * 3, width * 3);
            var target = rows.Slice(y * stride, width * 3);
            for (var x = 0; x < source.Length; x += 3)
            {
                target[x] = source[x + 2];
                target[x + 1] = source[x + 1];
                target[x + 2] = source[x];
            }
        }
        return file;
    }

    private static Image ToRgb8(Image image)
    {
        if (image.Bands < 3)
        {
            using var grey = image.ExtractBand(0);
            using var grey8 = To8Bit(grey);
            return grey8.Bandjoin(grey8, grey8);
        }
        using var srgb = image.Interpretation is Enums.Interpretation.Srgb or Enums.Interpretation.Rgb16 or Enums.Interpretation.Multiband
            ? image.Copy()
            : image.Colourspace(Enums.Interpretation.Srgb);
        using var three = srgb.Bands == 3 ? srgb.Copy() : srgb.ExtractBand(0, n: 3);
        return To8Bit(three);
    }

    private static Image To8Bit(Image image)
    {
        if (image.Format == Enums.BandFormat.Uchar) return image.Copy();
        if (image.Format == Enums.BandFormat.Ushort)
        {
            using var scaled = image / 256;
            return scaled.Cast(Enums.BandFormat.Uchar);
        }
        return image.Cast(Enums.BandFormat.Uchar);
    }
}
