using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Hardening;

/// <summary>
/// The fuzz corpus: crafted files of every accepted format, made by the tests themselves so the corpus needs no
/// binary fixtures and states what each file attacks. Each is small; several declare sizes or frame counts that would
/// cost gigabytes or minutes if anything trusted them.
/// </summary>
public static class HostileImages
{
    public const string SvgBlurBomb =
        """<svg xmlns="http://www.w3.org/2000/svg" width="6000" height="6000"><filter id="f"><feGaussianBlur stdDeviation="6000"/></filter><rect width="6000" height="6000" fill="red" filter="url(#f)"/></svg>""";

    public static IReadOnlyList<(string Name, byte[] Bytes)> Corpus()
    {
        using var pattern = TestImages.Pattern(32, 24);
        var png = TestImages.Encode(pattern, ".png");
        var jpeg = TestImages.Encode(pattern, ".jpg");
        var webp = TestImages.Encode(pattern, ".webp");
        var tiff = TestImages.Encode(pattern, ".tif");
        var gif = TestImages.Encode(pattern, ".gif");
        var files = new List<(string, byte[])>
        {
            ("empty", []),
            ("one-byte", [0x89]),
            ("png-valid", png),
            ("png-1x1", PngRgb(1, 1)),
            ("png-6000000x1", TestImages.PngWithDeclaredSize(6_000_000, 1)),
            ("png-1000000x1", TestImages.PngWithDeclaredSize(1_000_000, 1)),
            ("png-1x1000000", TestImages.PngWithDeclaredSize(1, 1_000_000)),
            ("png-40000x40000", TestImages.PngWithDeclaredSize(40_000, 40_000)),
            ("png-int-max", TestImages.PngWithDeclaredSize(int.MaxValue, int.MaxValue)),
            ("png-zero-size", TestImages.PngWithDeclaredSize(0, 0)),
            ("png-6000x6000-tiny", TestImages.PngWithDeclaredSize(6000, 6000)),
            ("png-2000x1-real", PngRgb(2000, 1)),
            ("png-truncated", png[..(png.Length / 2)]),
            ("png-palette-out-of-range", PngWithShortPalette()),
            ("jpeg-valid", jpeg),
            ("jpeg-truncated", jpeg[..(jpeg.Length / 2)]),
            ("jpeg-65500x65500", JpegWithDeclaredSize(jpeg, 65_500, 65_500)),
            ("jpeg-60000x1", JpegWithDeclaredSize(jpeg, 60_000, 1)),
            ("jpeg-soi-only", [0xFF, 0xD8, 0xFF]),
            ("webp-valid", webp),
            ("webp-truncated", webp[..(webp.Length / 2)]),
            ("webp-animated-300", AnimatedWebP(300)),
            ("gif-valid", gif),
            ("gif-3000-frames", GifFrames(3000)),
            ("gif-65535x65535-screen", GifScreen(65_535, 65_535)),
            ("tiff-valid", tiff),
            ("tiff-truncated", tiff[..(tiff.Length / 3)]),
            ("bmp-valid", TestImages.Bmp24(16, 8, (x, y) => ((byte)(x * 16), (byte)(y * 30), 90))),
            ("bmp-6000000x1", BmpHeader(6_000_000, 1, 24)),
            ("bmp-1x1000000", BmpHeader(1, 1_000_000, 24)),
            ("bmp-negative-width", BmpHeader(-5, 5, 24)),
            ("bmp-min-height", BmpHeader(5, int.MinValue, 24)),
            ("bmp-7-bpp", BmpHeader(4, 4, 7)),
            ("bmp-palette-past-end", BmpPaletteOutOfRange()),
            ("bmp-pixel-offset-past-end", BmpPixelOffset(uint.MaxValue)),
            ("bmp-short", "BM\0\0\0\0"u8.ToArray()),
            ("svg-blur-bomb", Encoding.UTF8.GetBytes(SvgBlurBomb)),
            ("svg-billion-laughs", Encoding.UTF8.GetBytes(BillionLaughs())),
            ("svg-100000x100000", Encoding.UTF8.GetBytes("""<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="10" height="10"/></svg>""")),
            ("svg-0x0", Encoding.UTF8.GetBytes("""<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"/>""")),
            ("svg-1x1", Encoding.UTF8.GetBytes("""<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect width="1" height="1"/></svg>""")),
            ("svg-external-file", Encoding.UTF8.GetBytes("""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image xlink:href="file:///etc/passwd" width="64" height="64"/></svg>""")),
            ("svg-embedded-png-bomb", Encoding.UTF8.GetBytes(
                $"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image xlink:href="data:image/png;base64,{Convert.ToBase64String(TestImages.PngWithDeclaredSize(30_000, 30_000))}" width="64" height="64"/></svg>""")),
            ("svg-nested-use", Encoding.UTF8.GetBytes(NestedUse())),
            ("polyglot-png-then-html", [.. png, .. "<html><script>alert(1)</script></html>"u8]),
            ("polyglot-gif-js", "GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=alert(1);"u8.ToArray()),
            ("polyglot-jpeg-zip", [.. jpeg, .. "PK\x03\x04\x14\x00\x00\x00"u8, .. new byte[64]]),
            ("polyglot-png-magic-svg", [.. png[..8], .. Encoding.UTF8.GetBytes(SvgBlurBomb)]),
            ("heif-ftyp-only", [0, 0, 0, 0x18, .. "ftypheic"u8, 0, 0, 0, 0, .. "mif1heic"u8]),
            ("avif-ftyp-only", [0, 0, 0, 0x18, .. "ftypavif"u8, 0, 0, 0, 0, .. "mif1avif"u8]),
        };
        return files;
    }

    /// <summary>A real (decodable) RGB PNG of the given size.</summary>
    public static byte[] PngRgb(int width, int height)
    {
        using var black = Image.Black(width, height, bands: 3);
        using var rgb = black.Copy(interpretation: Enums.Interpretation.Srgb);
        return rgb.WriteToBuffer(".png");
    }

    /// <summary>A palette PNG with a one-entry PLTE whose pixels use indices up to 255.</summary>
    private static byte[] PngWithShortPalette()
    {
        const int size = 16;
        using var stream = new MemoryStream();
        stream.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, size);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), size);
        ihdr[8] = 8;
        ihdr[9] = 3; // palette
        TestImages.WriteChunk(stream, "IHDR", ihdr);
        TestImages.WriteChunk(stream, "PLTE", [255, 0, 0]);
        var raw = new byte[size * (size + 1)];
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
                raw[y * (size + 1) + 1 + x] = (byte)(y * size + x);
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            z.Write(raw);
        TestImages.WriteChunk(stream, "IDAT", compressed.ToArray());
        TestImages.WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static byte[] JpegWithDeclaredSize(byte[] jpeg, int width, int height)
    {
        var copy = (byte[])jpeg.Clone();
        for (var i = 2; i + 9 < copy.Length; i++)
        {
            if (copy[i] != 0xFF || copy[i + 1] is not (0xC0 or 0xC1 or 0xC2)) continue;
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(i + 5), (ushort)height);
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(i + 7), (ushort)width);
            return copy;
        }
        throw new InvalidOperationException("No SOF marker in the JPEG.");
    }

    private static byte[] AnimatedWebP(int frames)
    {
        using var frame = Image.Black(8, 8, bands: 3);
        var all = Enumerable.Range(0, frames).Select(i => frame + (i % 255)).ToArray();
        try
        {
            using var joined = Image.Arrayjoin(all, across: 1);
            using var cast = joined.Cast(Enums.BandFormat.Uchar).Copy(interpretation: Enums.Interpretation.Srgb);
            using var paged = cast.Mutate(m => m.Set(GValue.GIntType, "page-height", 8));
            return paged.WriteToBuffer(".webp");
        }
        finally
        {
            foreach (var image in all) image.Dispose();
        }
    }

    /// <summary>A GIF of <paramref name="frames"/> 1×1 frames written by hand (a few bytes each).</summary>
    private static byte[] GifFrames(int frames)
    {
        using var stream = new MemoryStream();
        stream.Write("GIF89a"u8);
        stream.Write([1, 0, 1, 0, 0x80, 0, 0]); // 1×1 screen, 2-entry global palette
        stream.Write([0, 0, 0, 255, 255, 255]);
        stream.Write([0x21, 0xFF, 0x0B, .. "NETSCAPE2.0"u8, 3, 1, 0, 0, 0]);
        for (var i = 0; i < frames; i++)
        {
            stream.Write([0x21, 0xF9, 4, 0, 0, 0, 0, 0]);
            stream.Write([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
            stream.Write([2, 2, 0x4C, 0x01, 0]); // LZW min code 2, one data sub-block
        }
        stream.WriteByte(0x3B);
        return stream.ToArray();
    }

    private static byte[] GifScreen(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write("GIF89a"u8);
        var screen = new byte[7];
        BinaryPrimitives.WriteUInt16LittleEndian(screen, (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(screen.AsSpan(2), (ushort)height);
        screen[4] = 0x80;
        stream.Write(screen);
        stream.Write([0, 0, 0, 255, 255, 255]);
        var descriptor = new byte[10];
        descriptor[0] = 0x2C;
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor.AsSpan(5), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor.AsSpan(7), (ushort)height);
        stream.Write(descriptor);
        stream.Write([2, 2, 0x4C, 0x01, 0, 0x3B]);
        return stream.ToArray();
    }

    /// <summary>A 4×4 BMP whose header is then made to declare another size and depth.</summary>
    public static byte[] BmpHeader(int width, int height, int bitsPerPixel)
    {
        var data = TestImages.Bmp24(4, 4, (_, _) => (1, 2, 3));
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(28), (short)bitsPerPixel);
        return data;
    }

    /// <summary>An 8-bit BMP whose pixel data starts right after the header: no palette entries at all, indices up to 255.</summary>
    private static byte[] BmpPaletteOutOfRange()
    {
        var data = BmpHeader(4, 4, 8);
        Array.Resize(ref data, 54 + 16);
        for (var i = 54; i < data.Length; i++) data[i] = 200;
        return data;
    }

    private static byte[] BmpPixelOffset(uint offset)
    {
        var data = BmpHeader(4, 4, 24);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(10), offset);
        return data;
    }

    private static string BillionLaughs()
    {
        var text = new StringBuilder("<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a0 \"lol\">");
        for (var i = 1; i < 10; i++)
            text.Append($"<!ENTITY a{i} \"{string.Concat(Enumerable.Repeat($"&a{i - 1};", 10))}\">");
        text.Append("]><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><text y=\"20\">&a9;</text></svg>");
        return text.ToString();
    }

    /// <summary>Ten levels of &lt;use&gt;, each using the one below ten times: 10^10 rectangles if expanded naively.</summary>
    private static string NestedUse()
    {
        var text = new StringBuilder("<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"256\" height=\"256\"><defs><rect id=\"l0\" width=\"1\" height=\"1\"/>");
        for (var level = 1; level <= 10; level++)
        {
            text.Append($"<g id=\"l{level}\">");
            for (var i = 0; i < 10; i++) text.Append($"<use xlink:href=\"#l{level - 1}\" x=\"{i}\"/>");
            text.Append("</g>");
        }
        text.Append("</defs><use xlink:href=\"#l10\"/></svg>");
        return text.ToString();
    }

    /// <summary>Copies of <paramref name="source"/> with a few bytes flipped each, from a fixed seed so a failure reproduces.</summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Mutations(string name, byte[] source, int count, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var copy = (byte[])source.Clone();
            var flips = 1 + random.Next(16);
            // Half the mutants hit the first 2 KB, where the headers (sizes, tables, palettes) live.
            for (var f = 0; f < flips; f++)
            {
                var at = random.Next(2) == 0 ? random.Next(Math.Min(2048, copy.Length)) : random.Next(copy.Length);
                copy[at] ^= (byte)(1 << random.Next(8));
            }
            if (random.Next(8) == 0) Array.Resize(ref copy, random.Next(copy.Length));
            yield return ($"{name}#mut{i}", copy);
        }
    }
}
