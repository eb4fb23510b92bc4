using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Imaging;

/// <summary>The decode sized to the tasks' need: how far a JPEG or WebP may be shrunk on load, and what the image remembers of its original size.</summary>
public class ShrinkOnLoadTests
{
    private static readonly DecodeNeed Yolox416 = DecodeNeed.Contain(416, 416);

    [Fact]
    public void A_letterbox_need_leaves_the_reference_resampler_two_times_on_the_longer_side()
    {
        // 4000×3000 into 416×416 scales by 416/4000; shrinking by 4.8 still leaves 1/2.
        Assert.Equal(4000.0 / 416 / 2, Yolox416.MaxShrink(4000, 3000), 6);
        Assert.Equal(4000.0 / 416 / 2, Yolox416.MaxShrink(3000, 4000), 6);
    }

    [Fact]
    public void A_stretch_need_is_bound_by_the_side_it_shrinks_least_and_a_shorter_side_need_by_the_shorter_side()
    {
        Assert.Equal(Math.Min(4000.0 / 320, 1000.0 / 240) / 2, DecodeNeed.Stretch(320, 240).MaxShrink(4000, 1000), 6);
        Assert.Equal(3000.0 / 224 / 2, DecodeNeed.ShorterSide(224).MaxShrink(4000, 3000), 6);
    }

    [Fact]
    public void One_full_resolution_need_among_bounded_ones_means_no_shrink()
    {
        Assert.Equal(1, DecodeNeed.MaxShrink([Yolox416, DecodeNeed.FullResolution], 4000, 3000));
        Assert.Equal(1, DecodeNeed.MaxShrink([], 4000, 3000));
        Assert.Equal(Math.Min(Yolox416.MaxShrink(4000, 3000), DecodeNeed.ShorterSide(256).MaxShrink(4000, 3000)),
            DecodeNeed.MaxShrink([Yolox416, DecodeNeed.ShorterSide(256)], 4000, 3000), 6);
    }

    [Fact]
    public void A_4000x3000_jpeg_for_a_416_letterbox_is_decoded_at_a_quarter_by_dct_scaling_and_knows_its_original_size()
    {
        var jpeg = Jpeg(4000, 3000);
        var decoded = new ImageDecoder(ImageLimits.Default).Decode(jpeg, [Yolox416]);
        Assert.Equal((1000, 750), (decoded.Width, decoded.Height));
        Assert.Equal((4000, 3000), (decoded.OriginalWidth, decoded.OriginalHeight));
        Assert.True(decoded.IsShrunk);
        Assert.Equal((4.0, 4.0), decoded.ToOriginalScale);
    }

    [Fact]
    public void With_shrink_on_load_off_or_no_need_given_the_jpeg_is_decoded_at_full_resolution()
    {
        var jpeg = Jpeg(4000, 3000);
        var off = new ImageDecoder(ImageLimits.Default, shrinkOnLoad: false).Decode(jpeg, [Yolox416]);
        var noNeed = new ImageDecoder(ImageLimits.Default).Decode(jpeg);
        foreach (var decoded in new[] { off, noNeed })
        {
            Assert.Equal((4000, 3000), (decoded.Width, decoded.Height));
            Assert.False(decoded.IsShrunk);
        }
    }

    [Fact]
    public void A_turned_jpeg_is_shrunk_and_made_upright_with_its_upright_original_size()
    {
        using var pattern = TestImages.Pattern(4000, 3000);
        using var tagged = pattern.Mutate(m => m.Set(GValue.GIntType, "orientation", 6));
        var jpeg = tagged.JpegsaveBuffer(q: 90);
        var decoded = new ImageDecoder(ImageLimits.Default).Decode(jpeg, [Yolox416]);
        Assert.Equal(6, decoded.Orientation);
        Assert.Equal((750, 1000), (decoded.Width, decoded.Height));
        Assert.Equal((3000, 4000), (decoded.OriginalWidth, decoded.OriginalHeight));
        var full = new ImageDecoder(ImageLimits.Default, shrinkOnLoad: false).Decode(jpeg, [Yolox416]);
        Assert.Equal((3000, 4000), (full.Width, full.Height));
    }

    [Fact]
    public void A_webp_is_shrunk_by_a_whole_factor_and_a_png_is_decoded_whole()
    {
        using var pattern = TestImages.Pattern(2400, 1800);
        var decoder = new ImageDecoder(ImageLimits.Default);
        var webp = decoder.Decode(pattern.WebpsaveBuffer(q: 90), [Yolox416]);
        // 2400/416/2 = 2.9: libwebp could shrink by 2.9, but a whole 2 keeps every decoded pixel the same blend.
        Assert.Equal((1200, 900), (webp.Width, webp.Height));
        Assert.Equal((2400, 1800), (webp.OriginalWidth, webp.OriginalHeight));
        var png = decoder.Decode(pattern.PngsaveBuffer(), [Yolox416]);
        Assert.Equal((2400, 1800), (png.Width, png.Height));
        Assert.False(png.IsShrunk);
    }

    [Fact]
    public void A_box_found_in_a_shrunk_image_maps_back_to_the_original_pixels()
    {
        var image = new DecodedImage(1000, 750, new byte[1000 * 750 * 3], ImageFormat.Jpeg, 1, 1)
        {
            OriginalWidth = 4000,
            OriginalHeight = 3000,
            ToOriginalScale = (4, 4),
        };
        var result = new DetectionResult("m", 1000, 750, [new DetectedObject("dog", 16, 0.9f, new BoundingBox(10, 20, 110, 749.9f))],
            new DetectionTimings(0, 0, 0)).InOriginalPixels(image);
        Assert.Equal((4000, 3000), (result.Width, result.Height));
        Assert.Equal(new BoundingBox(40, 80, 440, 2999.6f), result.Objects[0].Box);
    }

    private static byte[] Jpeg(int width, int height)
    {
        using var pattern = TestImages.Pattern(width, height);
        return pattern.JpegsaveBuffer(q: 90);
    }
}
