using Iris.Core.Imaging;

namespace Iris.Core.Inference.Batching;

/// <summary>
/// Synthetic images for checking a batched graph against the exported one at load time: different sizes (so
/// letterboxing pads differently), smooth gradients and deterministic noise, so that every row of a batch differs.
/// </summary>
public static class ProbeImages
{
    public static IReadOnlyList<DecodedImage> Create(int width, int height) =>
    [
        Image(width, height, seed: 1),
        Image(Math.Max(8, width * 3 / 4), height, seed: 2),
        Image(width, Math.Max(8, height / 2), seed: 3),
    ];

    private static DecodedImage Image(int width, int height, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 3;
                pixels[i] = (byte)(x * 255 / width);
                pixels[i + 1] = (byte)(y * 255 / height);
                pixels[i + 2] = (byte)random.Next(256);
            }
        return new DecodedImage(width, height, pixels, ImageFormat.Png, 1, 0);
    }
}
