using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;

namespace Iris.Tests.Imaging.Preprocessing;

public class LetterboxTests
{
    private static TensorFormat Planar(bool bgr) => new(TensorLayout.Nchw, bgr, PixelNormalization.None);

    private static DecodedImage Solid(int width, int height, byte r, byte g, byte b)
    {
        var rgb = new byte[width * height * 3];
        for (var i = 0; i < rgb.Length; i += 3) (rgb[i], rgb[i + 1], rgb[i + 2]) = (r, g, b);
        return new DecodedImage(width, height, rgb, ImageFormat.Png, 1, rgb.Length);
    }

    [Fact]
    public void Letterbox_pads_with_114_and_keeps_aspect_ratio_at_the_top_left()
    {
        var image = Solid(200, 100, 10, 20, 30);
        var tensor = new float[3 * 416 * 416];
        var ratio = Letterbox.Fill(image, tensor, 416, 416, 114f, Planar(true));

        Assert.Equal(2.08f, ratio, 3);
        // The image covers 416×208 at the top; everything below is padding.
        Assert.Equal(30f, tensor[0 * 416 * 416 + 100 * 416 + 200], 3); // B plane first in BGR
        Assert.Equal(20f, tensor[1 * 416 * 416 + 207 * 416 + 415], 3);
        Assert.Equal(10f, tensor[2 * 416 * 416 + 0], 3);
        Assert.Equal(114f, tensor[0 * 416 * 416 + 208 * 416 + 0]);
        Assert.Equal(114f, tensor[2 * 416 * 416 + 415 * 416 + 415]);
    }

    [Fact]
    public void Rgb_order_puts_red_in_the_first_plane()
    {
        var image = Solid(4, 4, 200, 100, 50);
        var tensor = new float[3 * 8 * 8];
        Letterbox.Fill(image, tensor, 8, 8, 0f, Planar(false));
        Assert.Equal(200f, tensor[0]);
        Assert.Equal(100f, tensor[64]);
        Assert.Equal(50f, tensor[128]);
    }

    [Fact]
    public void Bilinear_resize_uses_pixel_centres_like_opencv()
    {
        // A 2×1 image (0 and 100) upscaled to 4×2: OpenCV's INTER_LINEAR gives 0, 25, 75, 100.
        var rgb = new byte[] { 0, 0, 0, 100, 100, 100 };
        var image = new DecodedImage(2, 1, rgb, ImageFormat.Png, 1, 6);
        var tensor = new float[3 * 2 * 4];
        Letterbox.Fill(image, tensor, 4, 2, 114f, Planar(false));
        Assert.Equal(new[] { 0f, 25f, 75f, 100f }, tensor[..4]);
    }

    [Theory]
    [InlineData(768, 576, 416, 416, true)]
    [InlineData(123, 457, 416, 416, false)]
    [InlineData(1, 1, 416, 416, true)]
    [InlineData(1000, 3, 640, 640, false)]
    [InlineData(300, 200, 416, 416, true)]
    public void Fill_computes_every_value_exactly_as_the_per_pixel_bilinear_formula(int width, int height, int tensorWidth, int tensorHeight, bool bgr)
    {
        var random = new Random(width * 7919 + height);
        var rgb = new byte[width * height * 3];
        random.NextBytes(rgb);
        var image = new DecodedImage(width, height, rgb, ImageFormat.Png, 1, rgb.Length);
        var actual = new float[3 * tensorWidth * tensorHeight];
        var expected = new float[actual.Length];
        var ratio = Letterbox.Fill(image, actual, tensorWidth, tensorHeight, 114f, Planar(bgr));
        Assert.Equal(ReferenceFill(image, expected, tensorWidth, tensorHeight, 114f, bgr), ratio);
        Assert.Equal(expected, actual);
    }

    /// <summary>The letterbox written as plainly as possible, one sample at a time: what any faster version must equal.</summary>
    private static float ReferenceFill(DecodedImage image, float[] chw, int width, int height, float padValue, bool bgr)
    {
        var ratio = Math.Min((float)width / image.Width, (float)height / image.Height);
        var resizedWidth = Math.Clamp((int)(image.Width * ratio), 1, width);
        var resizedHeight = Math.Clamp((int)(image.Height * ratio), 1, height);
        Array.Fill(chw, padValue);
        OpenCvBilinearTests.ReferenceWrite(image, resizedWidth, resizedHeight, Planar(bgr), chw, width, height, padRows: 0);
        return ratio;
    }

    [Fact]
    public void Normalisation_applies_scale_mean_and_std_to_pixels_and_padding_alike()
    {
        // A 1×1 white image in a 2×1 canvas padded with 51: (x/255 − mean) / std per channel.
        var format = new TensorFormat(TensorLayout.Nchw, false, new PixelNormalization(1.0 / 255, [0.5f, 0.5f, 0.2f], [0.5f, 0.25f, 0.1f]));
        var tensor = new float[3 * 2];
        Letterbox.Fill(Solid(1, 1, 255, 255, 0), tensor, 2, 1, 51f, format);
        Assert.Equal(new[] { 1f, -0.6f, 2f, -1.2f, -2f, 0f }, tensor.Select(v => MathF.Round(v, 4)).ToArray());
    }
}
