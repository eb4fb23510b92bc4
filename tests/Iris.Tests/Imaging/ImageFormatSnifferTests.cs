using System.Text;
using Iris.Core.Imaging;
using Iris.Tests.Support;

namespace Iris.Tests.Imaging;

public class ImageFormatSnifferTests
{
    [Theory]
    [InlineData(".jpg", ImageFormat.Jpeg)]
    [InlineData(".png", ImageFormat.Png)]
    [InlineData(".webp", ImageFormat.WebP)]
    [InlineData(".gif", ImageFormat.Gif)]
    [InlineData(".tif", ImageFormat.Tiff)]
    public void Recognises_formats_encoded_by_libvips_from_their_bytes(string suffix, ImageFormat expected)
    {
        using var image = TestImages.Pattern();
        Assert.Equal(expected, ImageFormatSniffer.Sniff(TestImages.Encode(image, suffix)));
    }

    [Fact]
    public void Recognises_bmp_only_with_a_known_info_header_size()
    {
        Assert.Equal(ImageFormat.Bmp, ImageFormatSniffer.Sniff(TestImages.Bmp24(2, 2, (_, _) => (1, 2, 3))));
        Assert.Null(ImageFormatSniffer.Sniff("BM is how this text file begins, but it is not a bitmap"u8));
    }

    [Fact]
    public void Recognises_avif_and_heif_by_their_ftyp_brands()
    {
        byte[] Ftyp(string major) => [0, 0, 0, 24, .. "ftyp"u8, .. Encoding.ASCII.GetBytes(major), 0, 0, 0, 0, .. "mif1"u8, .. "miaf"u8];
        Assert.Equal(ImageFormat.Avif, ImageFormatSniffer.Sniff(Ftyp("avif")));
        Assert.Equal(ImageFormat.Heif, ImageFormatSniffer.Sniff(Ftyp("heic")));
        Assert.Null(ImageFormatSniffer.Sniff([0, 0, 0, 16, .. "ftyp"u8, .. "isom"u8, 0, 0, 0, 0]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello, this is a text file named photo.jpg")]
    [InlineData("{\"json\": true}")]
    [InlineData("<html><body>not an image</body></html>")]
    public void Returns_null_for_data_that_is_not_an_image(string text) =>
        Assert.Null(ImageFormatSniffer.Sniff(Encoding.UTF8.GetBytes(text)));
}
