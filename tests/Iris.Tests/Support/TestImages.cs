using System.Buffers.Binary;
using System.Text;
using NetVips;

namespace Iris.Tests.Support;

/// <summary>Images made on the fly for format and bad-input tests.</summary>
public static class TestImages
{
    /// <summary>A gradient with a red square, so orientation and channel order are visible in the pixels.</summary>
    public static Image Pattern(int width = 64, int height = 48)
    {
        using var x = Image.Xyz(width, height);
        using var r = x[0] * (255.0 / width);
        using var g = x[1] * (255.0 / height);
        using var b = Image.Black(width, height) + 40;
        using var rgb = r.Bandjoin(g, b).Cast(Enums.BandFormat.Uchar);
        return rgb.Copy(interpretation: Enums.Interpretation.Srgb);
    }

    public static byte[] Encode(Image image, string suffix) => image.WriteToBuffer(suffix);

    /// <summary>A structurally valid PNG whose header claims the given size, with almost no pixel data (a decompression bomb's header).</summary>
    public static byte[] PngWithDeclaredSize(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(stream, "IHDR", ihdr);
        WriteChunk(stream, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    /// <summary>An uncompressed 24-bit bottom-up BMP.</summary>
    public static byte[] Bmp24(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var rowBytes = (width * 3 + 3) / 4 * 4;
        var data = new byte[54 + rowBytes * height];
        "BM"u8.CopyTo(data);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(2), data.Length);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(28), 24);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                var at = 54 + (height - 1 - y) * rowBytes + x * 3;
                data[at] = b;
                data[at + 1] = g;
                data[at + 2] = r;
            }
        return data;
    }

    public static void WriteChunk(Stream stream, string type, byte[] payload)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, payload.Length);
        stream.Write(length);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(payload).ToArray();
        stream.Write(typeAndData);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        stream.Write(crc);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
