using Iris.Core.Imaging;
using Iris.Core.Library;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

public sealed class PerceptualHashTests
{
    private static DecodedImage HalfSize(DecodedImage image)
    {
        int width = image.Width / 2, height = image.Height / 2;
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                for (var c = 0; c < 3; c++)
                    rgb[(y * width + x) * 3 + c] = image.Rgb[(2 * y * image.Width + 2 * x) * 3 + c];
        return image.WithPixels(width, height, rgb);
    }

    private static DecodedImage Brighter(DecodedImage image) =>
        image.WithPixels(image.Width, image.Height, image.Rgb.Select(b => (byte)Math.Min(255, b + 20)).ToArray());

    [Fact]
    public void A_resized_or_brightened_copy_is_nearer_than_any_other_flower()
    {
        var image = FlowerReference.Decode("flower-00.png");
        var hash = PerceptualHash.ToHex(PerceptualHash.Compute(image));
        var resized = PerceptualHash.Distance(hash, PerceptualHash.ToHex(PerceptualHash.Compute(HalfSize(image))));
        var brighter = PerceptualHash.Distance(hash, PerceptualHash.ToHex(PerceptualHash.Compute(Brighter(image))));
        // The synthetic flowers share one layout and background, so a few of them are near-duplicates of each other by
        // dHash too (5 bits apart); most are not, and the copies of one flower are nearer still.
        var others = FlowerReference.Images.Skip(1).Select(i => PerceptualHash.Distance(hash, PerceptualHash.ToHex(PerceptualHash.Compute(FlowerReference.Decode(i.File))))).ToList();
        Assert.True(Math.Max(resized, brighter) < others.Min(), $"copies {resized}, {brighter}; others {string.Join(",", others)}");
        Assert.True(others.Count(d => d > 6) >= 15, string.Join(",", others));
    }

    [Fact]
    public void The_hash_is_16_hex_digits_and_the_distance_counts_differing_bits()
    {
        Assert.Equal("00000000000000ff", PerceptualHash.ToHex(0xff));
        Assert.Equal(8, PerceptualHash.Distance("00000000000000ff", "0000000000000000"));
        Assert.Equal(0, PerceptualHash.Distance("abcdef0123456789", "abcdef0123456789"));
    }
}
