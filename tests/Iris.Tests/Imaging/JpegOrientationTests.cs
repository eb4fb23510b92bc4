using System.Buffers.Binary;
using Iris.Core.Imaging;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Imaging;

/// <summary>
/// The EXIF orientation read without libvips agrees with libvips' on every file it reads, and gives up (null) on anything
/// but the common layout, which then decodes through libvips exactly as before.
/// </summary>
public class JpegOrientationTests
{
    [Theory]
    [MemberData(nameof(TurboJpegTests.SharedJpegs), MemberType = typeof(TurboJpegTests))]
    public void Every_shared_jpeg_has_the_orientation_libvips_reads(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.Shared, file));
        Assert.Equal(LibvipsOrientation(bytes), JpegOrientation.Read(bytes));
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 3)]
    [InlineData(true, 6)]
    [InlineData(true, 8)]
    [InlineData(false, 2)]
    [InlineData(false, 5)]
    [InlineData(false, 6)]
    [InlineData(false, 7)]
    public void Each_orientation_in_either_byte_order_is_read_as_libvips_reads_it_and_decodes_as_before(bool littleEndian, int orientation)
    {
        var jpeg = WithExif(PlainJpeg(), Tiff(littleEndian, orientation));
        Assert.Equal(orientation, JpegOrientation.Read(jpeg));
        Assert.Equal(orientation, LibvipsOrientation(jpeg));
        AssertDecodesAsLibvips(jpeg);
    }

    [Fact]
    public void A_jpeg_without_exif_or_without_the_tag_is_upright()
    {
        var plain = PlainJpeg();
        Assert.Equal(1, JpegOrientation.Read(plain));
        Assert.Equal(1, JpegOrientation.Read(WithExif(plain, Tiff(littleEndian: true, orientation: null))));
    }

    public static TheoryData<string> Uncommon() => new()
    {
        "orientation 9",
        "orientation as a LONG",
        "two EXIF segments",
        "a segment longer than the file",
        "an IFD beyond the segment",
        "no TIFF byte order",
    };

    [Theory]
    [MemberData(nameof(Uncommon))]
    public void An_uncommon_or_damaged_exif_is_left_to_libvips_and_decodes_as_before(string variant)
    {
        var plain = PlainJpeg();
        var jpeg = variant switch
        {
            "orientation 9" => WithExif(plain, Tiff(true, 9)),
            "orientation as a LONG" => WithExif(plain, Tiff(true, 6, type: 4)),
            "two EXIF segments" => WithExif(WithExif(plain, Tiff(true, 1)), Tiff(false, 6)),
            "a segment longer than the file" => [.. plain[..2], 0xFF, 0xE1, 0xFF, 0xF0, .. "Exif\0\0"u8, .. plain[2..40]],
            "an IFD beyond the segment" => WithExif(plain, TiffWithIfdAt(4000)),
            "no TIFF byte order" => WithExif(plain, [.. "XX"u8, .. Tiff(true, 6)[2..]]),
            _ => throw new ArgumentOutOfRangeException(nameof(variant)),
        };
        Assert.Null(JpegOrientation.Read(jpeg));
        if (variant != "a segment longer than the file")
            AssertDecodesAsLibvips(jpeg);
    }

    private static void AssertDecodesAsLibvips(byte[] jpeg)
    {
        var turbo = TurboJpegTests.Turbo.Decode(jpeg);
        var vips = TurboJpegTests.Vips.Decode(jpeg);
        Assert.Equal((vips.Width, vips.Height, vips.Orientation), (turbo.Width, turbo.Height, turbo.Orientation));
        Assert.Equal(vips.Rgb, turbo.Rgb);
    }

    private static int LibvipsOrientation(byte[] jpeg)
    {
        using var image = Image.NewFromBuffer(jpeg);
        return image.Contains("orientation") ? (int)image.Get("orientation") : 1;
    }

    private static byte[] PlainJpeg()
    {
        using var pattern = TestImages.Pattern(96, 64);
        return pattern.JpegsaveBuffer(q: 90, keep: Enums.ForeignKeep.None);
    }

    /// <summary>The JPEG with an APP1 EXIF segment holding <paramref name="tiff"/> right after its SOI marker.</summary>
    private static byte[] WithExif(byte[] jpeg, byte[] tiff)
    {
        var length = 2 + 6 + tiff.Length;
        return [.. jpeg[..2], 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. "Exif\0\0"u8, .. tiff, .. jpeg[2..]];
    }

    /// <summary>A TIFF header and an IFD0 with one entry: Orientation as <paramref name="type"/> (3, SHORT), or an unrelated tag when null.</summary>
    private static byte[] Tiff(bool littleEndian, int? orientation, ushort type = 3)
    {
        var tiff = new byte[8 + 2 + 12 + 4];
        void U16(int at, int value)
        {
            if (littleEndian) BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(at), (ushort)value);
            else BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(at), (ushort)value);
        }
        void U32(int at, uint value)
        {
            if (littleEndian) BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(at), value);
            else BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(at), value);
        }
        tiff[0] = tiff[1] = (byte)(littleEndian ? 'I' : 'M');
        U16(2, 42);
        U32(4, 8);
        U16(8, 1);
        // Orientation (0x0112), or ImageDescription-free filler tag 0x0131 (Software) when the tag is absent.
        U16(10, orientation is null ? 0x0131 : 0x0112);
        U16(12, type);
        U32(14, 1);
        if (type == 4) U32(18, (uint)(orientation ?? 1));
        else U16(18, orientation ?? 0);
        return tiff;
    }

    private static byte[] TiffWithIfdAt(uint offset)
    {
        var tiff = Tiff(littleEndian: true, 6);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), offset);
        return tiff;
    }
}
