using System.Buffers.Binary;

namespace Iris.Core.Imaging;

/// <summary>
/// Windows BMP reader. The libvips build bundled with NetVips has no BMP loader (it would come
/// through ImageMagick), so BMP is decoded here: uncompressed 1/4/8-bit palette, 16/24/32-bit,
/// BI_BITFIELDS masks, bottom-up and top-down rows. RLE-compressed files are refused.
/// </summary>
internal static class BmpDecoder
{
    private const int BiRgb = 0, BiRle8 = 1, BiRle4 = 2, BiBitfields = 3, BiAlphaBitfields = 6;

    public readonly record struct Header(int Width, int Height, bool TopDown, int BitsPerPixel, int Compression, int DibSize, uint PixelOffset);

    public static Header ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length < 26)
            throw new CorruptImageException("The BMP file is shorter than its header.");
        var pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
        var dibSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[14..]);
        int width, height, bpp, compression = BiRgb;
        if (dibSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(data[18..]);
            height = BinaryPrimitives.ReadInt16LittleEndian(data[20..]);
            bpp = BinaryPrimitives.ReadUInt16LittleEndian(data[24..]);
        }
        else
        {
            if (data.Length < 14 + 40)
                throw new CorruptImageException("The BMP file is shorter than its info header.");
            width = BinaryPrimitives.ReadInt32LittleEndian(data[18..]);
            height = BinaryPrimitives.ReadInt32LittleEndian(data[22..]);
            bpp = BinaryPrimitives.ReadUInt16LittleEndian(data[28..]);
            compression = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[30..]);
        }
        var topDown = height < 0;
        if (height == int.MinValue || width <= 0 || height == 0)
            throw new CorruptImageException($"The BMP header declares an invalid size {width}×{height}.");
        return new Header(width, Math.Abs(height), topDown, bpp, compression, dibSize, pixelOffset);
    }

    public static byte[] DecodeRgb(ReadOnlySpan<byte> data, Header h)
    {
        if (h.Compression is BiRle8 or BiRle4)
            throw new UnsupportedImageFormatException("RLE-compressed BMP files are not supported; convert the image to PNG or an uncompressed BMP.");
        if (h.Compression is not (BiRgb or BiBitfields or BiAlphaBitfields))
            throw new UnsupportedImageFormatException($"BMP compression type {h.Compression} is not supported.");
        if (h.BitsPerPixel is not (1 or 4 or 8 or 16 or 24 or 32))
            throw new CorruptImageException($"The BMP header declares {h.BitsPerPixel} bits per pixel.");

        var rowBytes = ((long)h.Width * h.BitsPerPixel + 31) / 32 * 4;
        if (h.PixelOffset > data.Length || h.PixelOffset + rowBytes * h.Height > data.Length)
            throw new CorruptImageException("The BMP file is truncated: its pixel rows end past the end of the data.");

        var palette = h.BitsPerPixel <= 8 ? ReadPalette(data, h) : null;
        var (rMask, gMask, bMask) = ReadMasks(data, h);
        var rgb = new byte[(long)h.Width * h.Height * 3];
        for (var y = 0; y < h.Height; y++)
        {
            var srcRow = data.Slice((int)(h.PixelOffset + rowBytes * (h.TopDown ? y : h.Height - 1 - y)), (int)rowBytes);
            var dst = rgb.AsSpan(y * h.Width * 3, h.Width * 3);
            for (var x = 0; x < h.Width; x++)
            {
                switch (h.BitsPerPixel)
                {
                    case 24:
                        dst[x * 3] = srcRow[x * 3 + 2];
                        dst[x * 3 + 1] = srcRow[x * 3 + 1];
                        dst[x * 3 + 2] = srcRow[x * 3];
                        break;
                    case 32 or 16:
                        var value = h.BitsPerPixel == 32
                            ? BinaryPrimitives.ReadUInt32LittleEndian(srcRow[(x * 4)..])
                            : BinaryPrimitives.ReadUInt16LittleEndian(srcRow[(x * 2)..]);
                        dst[x * 3] = Channel(value, rMask);
                        dst[x * 3 + 1] = Channel(value, gMask);
                        dst[x * 3 + 2] = Channel(value, bMask);
                        break;
                    default:
                        var perByte = 8 / h.BitsPerPixel;
                        var shift = 8 - h.BitsPerPixel * (x % perByte + 1);
                        var index = (srcRow[x / perByte] >> shift) & ((1 << h.BitsPerPixel) - 1);
                        if (index >= palette!.Length / 3)
                            throw new CorruptImageException($"The BMP pixel at ({x}, {y}) refers to palette entry {index}, past the palette's end.");
                        palette.AsSpan(index * 3, 3).CopyTo(dst[(x * 3)..]);
                        break;
                }
            }
        }
        return rgb;
    }

    private static byte[] ReadPalette(ReadOnlySpan<byte> data, Header h)
    {
        var entrySize = h.DibSize == 12 ? 3 : 4;
        var start = 14 + h.DibSize;
        var count = (int)Math.Min(1 << h.BitsPerPixel, Math.Max(0, ((int)h.PixelOffset - start) / entrySize));
        var palette = new byte[count * 3];
        for (var i = 0; i < count; i++)
        {
            var e = data.Slice(start + i * entrySize, 3); // stored B, G, R
            palette[i * 3] = e[2];
            palette[i * 3 + 1] = e[1];
            palette[i * 3 + 2] = e[0];
        }
        return palette;
    }

    private static (uint R, uint G, uint B) ReadMasks(ReadOnlySpan<byte> data, Header h)
    {
        if (h.Compression is BiBitfields or BiAlphaBitfields)
        {
            // Masks follow a 40-byte header, or live inside the V2+ headers at the same offset.
            if (data.Length < 14 + 40 + 12)
                throw new CorruptImageException("The BMP file is too short to hold its colour masks.");
            return (BinaryPrimitives.ReadUInt32LittleEndian(data[54..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(data[58..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(data[62..]));
        }
        return h.BitsPerPixel == 16 ? (0x7C00u, 0x03E0u, 0x001Fu) : (0x00FF0000u, 0x0000FF00u, 0x000000FFu);
    }

    private static byte Channel(uint value, uint mask)
    {
        if (mask == 0) return 0;
        var shift = System.Numerics.BitOperations.TrailingZeroCount(mask);
        var max = mask >> shift;
        return (byte)(((value & mask) >> shift) * 255 / max);
    }
}
