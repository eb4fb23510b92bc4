namespace Iris.Core.Imaging.Preprocessing;

/// <summary>
/// Hugging Face's resize-then-<c>center_crop</c> (torchvision's is <see cref="ResizePlan.ShorterSideThenCenterCrop"/>):
/// integer offsets rounding towards the top-left, and black where the crop reaches past the resized image. Only the
/// crop window is resampled, so a 1,000,000×1 line costs what its 224×224 crop costs.
/// </summary>
public static class CenterCrop
{
    /// <summary>
    /// <paramref name="image"/> resized to <paramref name="resizedWidth"/>×<paramref name="resizedHeight"/> with Pillow's
    /// <paramref name="filter"/>, then the centred <paramref name="cropWidth"/>×<paramref name="cropHeight"/> window.
    /// </summary>
    public static DecodedImage ResizeThenCrop(DecodedImage image, int resizedWidth, int resizedHeight, int cropWidth, int cropHeight, ResampleFilter filter)
    {
        var top = (int)((resizedHeight - (long)cropHeight) / 2);
        var left = (int)((resizedWidth - (long)cropWidth) / 2);
        // The part of the window that lies on the resized image; the rest stays black (Pillow's crop pads so).
        int x0 = Math.Max(left, 0), y0 = Math.Max(top, 0);
        int x1 = (int)Math.Min((long)left + cropWidth, resizedWidth), y1 = (int)Math.Min((long)top + cropHeight, resizedHeight);
        var window = new ResizePlan(resizedWidth, resizedHeight, x0, y0, x1 - x0, y1 - y0);
        if (window.Width == cropWidth && window.Height == cropHeight)
            return PillowResampler.Resize(image, window, filter);
        var rgb = new byte[cropWidth * cropHeight * 3];
        if (window.Width > 0 && window.Height > 0)
        {
            var inside = PillowResampler.Resize(image, window, filter);
            var rowBytes = window.Width * 3;
            for (var y = 0; y < window.Height; y++)
                inside.Rgb.AsSpan(y * rowBytes, rowBytes).CopyTo(rgb.AsSpan(((y0 - top + y) * cropWidth + (x0 - left)) * 3));
        }
        return image.WithPixels(cropWidth, cropHeight, rgb);
    }

    /// <summary>A region of <paramref name="image"/> that lies within it (a plain copy of its rows).</summary>
    public static DecodedImage Region(DecodedImage image, int left, int top, int width, int height)
    {
        if (left < 0 || top < 0 || width < 1 || height < 1 || (long)left + width > image.Width || (long)top + height > image.Height)
            throw new ArgumentOutOfRangeException(nameof(width), $"The region {width}×{height} at ({left}, {top}) is not inside {image.Width}×{image.Height}.");
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
            image.Rgb.AsSpan(((top + y) * image.Width + left) * 3, width * 3).CopyTo(rgb.AsSpan(y * width * 3));
        return image.WithPixels(width, height, rgb);
    }
}
