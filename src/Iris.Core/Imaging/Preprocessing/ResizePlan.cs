namespace Iris.Core.Imaging.Preprocessing;

/// <summary>
/// The geometry of one resize: the image is scaled to <see cref="ResizedWidth"/>×<see cref="ResizedHeight"/>, then
/// the window of <see cref="Width"/>×<see cref="Height"/> at (<see cref="CropX"/>, <see cref="CropY"/>) is kept.
/// Only the kept window is ever computed, so the cost follows the window, however large the resized image would be
/// (a 1,000,000×1 line "resized" to a shorter side of 224 is 224 million pixels wide).
/// </summary>
public readonly record struct ResizePlan(int ResizedWidth, int ResizedHeight, int CropX, int CropY, int Width, int Height)
{
    public static ResizePlan Stretch(int width, int height) => new(width, height, 0, 0, width, height);

    /// <summary>
    /// torchvision's <c>Resize(shorterSide)</c> then <c>CenterCrop(cropWidth, cropHeight)</c>: the shorter side becomes
    /// <paramref name="shorterSide"/>, the longer one <c>int(shorterSide · long / short)</c>; the crop starts at
    /// <c>int(round((size − crop) / 2))</c> with Python's round-half-to-even.
    /// </summary>
    public static ResizePlan ShorterSideThenCenterCrop(int imageWidth, int imageHeight, int shorterSide, int cropWidth, int cropHeight)
    {
        int resizedWidth, resizedHeight;
        if (imageWidth <= imageHeight)
            (resizedWidth, resizedHeight) = (shorterSide, Side((long)shorterSide * imageHeight / imageWidth));
        else
            (resizedWidth, resizedHeight) = (Side((long)shorterSide * imageWidth / imageHeight), shorterSide);
        resizedWidth = Math.Max(resizedWidth, cropWidth);
        resizedHeight = Math.Max(resizedHeight, cropHeight);
        var x = (int)Math.Round((resizedWidth - (double)cropWidth) / 2.0, MidpointRounding.ToEven);
        var y = (int)Math.Round((resizedHeight - (double)cropHeight) / 2.0, MidpointRounding.ToEven);
        return new ResizePlan(resizedWidth, resizedHeight, x, y, cropWidth, cropHeight);
    }

    /// <summary>Scales so the longer side is at most <paramref name="maxSide"/> (never up), keeping the aspect ratio.</summary>
    public static ResizePlan FitWithin(int imageWidth, int imageHeight, int maxSide)
    {
        var ratio = Math.Min(1.0, (double)maxSide / Math.Max(imageWidth, imageHeight));
        var width = Math.Max(1, (int)Math.Round(imageWidth * ratio));
        var height = Math.Max(1, (int)Math.Round(imageHeight * ratio));
        return Stretch(width, height);
    }

    /// <summary>
    /// A computed side of a resized image, held within [1, <see cref="MaxSide"/>]: only the cropped window is
    /// computed, so an extreme aspect ratio may make the virtual image huge, but never overflow an int.
    /// </summary>
    public static int Side(double length) => (int)Math.Clamp(length, 1, MaxSide);

    /// <summary>The largest side a (virtual) resized image may have: 2³⁰, far beyond any real one.</summary>
    public const int MaxSide = 1 << 30;
}
