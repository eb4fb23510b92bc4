using NetVips;

namespace Iris.Core.Transforms.Imgproxy;

/// <summary>imgproxy's placement of an inner box in an outer one by gravity (its calcPosition), for crops and extensions.</summary>
internal static class ImgproxyPlacement
{
    public static (int Left, int Top) Position(int width, int height, int innerWidth, int innerHeight, ImgproxyGravity gravity, double offsetScale)
    {
        int left, top;
        if (gravity.Type == GravityType.FocusPoint)
        {
            left = Even(width * gravity.X) - innerWidth / 2;
            top = Even(height * gravity.Y) - innerHeight / 2;
        }
        else
        {
            var offX = Math.Abs(gravity.X) >= 1 ? Even(gravity.X * offsetScale) : Even(width * gravity.X);
            var offY = Math.Abs(gravity.Y) >= 1 ? Even(gravity.Y * offsetScale) : Even(height * gravity.Y);
            left = Even((width - innerWidth + 1) / 2.0) + offX;
            top = Even((height - innerHeight + 1) / 2.0) + offY;
            if (gravity.Type is GravityType.North or GravityType.NorthEast or GravityType.NorthWest) top = offY;
            if (gravity.Type is GravityType.East or GravityType.NorthEast or GravityType.SouthEast) left = width - innerWidth - offX;
            if (gravity.Type is GravityType.South or GravityType.SouthEast or GravityType.SouthWest) top = height - innerHeight - offY;
            if (gravity.Type is GravityType.West or GravityType.NorthWest or GravityType.SouthWest) left = offX;
        }
        return (Math.Max(0, Math.Min(left, width - innerWidth)), Math.Max(0, Math.Min(top, height - innerHeight)));
    }

    private static int Even(double value) => (int)Math.Round(value, MidpointRounding.ToEven);

    /// <summary>Crops to width × height (0 = the whole side; never more than the image) by gravity, smart gravity using libvips attention.</summary>
    public static Image Crop(Image image, int width, int height, ImgproxyGravity gravity, double offsetScale)
    {
        var (w, h) = CropSize(image.Width, image.Height, width, height);
        if (w == image.Width && h == image.Height) return image.Copy();
        if (gravity.Type == GravityType.Smart)
            return image.Smartcrop(w, h, interesting: Enums.Interesting.Attention);
        var (left, top) = Position(image.Width, image.Height, w, h, gravity, offsetScale);
        return image.Crop(left, top, w, h);
    }

    public static (int Width, int Height) CropSize(int imageWidth, int imageHeight, int width, int height) =>
        (width == 0 ? imageWidth : Math.Min(width, imageWidth), height == 0 ? imageHeight : Math.Min(height, imageHeight));

    /// <summary>
    /// Embeds in a larger canvas: transparent (an alpha band is added), or the background colour when one is given,
    /// as imgproxy extends and pads before flattening.
    /// </summary>
    public static Image Embed(Image image, int left, int top, int width, int height, Rgba? background)
    {
        if (background is { } colour)
        {
            using var flat = image.HasAlpha() ? image.Flatten(background: colour.ForBands(image.Bands - 1)) : image.Copy();
            return flat.Embed(left, top, width, height, extend: Enums.Extend.Background, background: colour.ForBands(flat.Bands));
        }
        using var withAlpha = image.HasAlpha() ? image.Copy() : image.BandjoinConst([255]);
        return withAlpha.Embed(left, top, width, height, extend: Enums.Extend.Black);
    }
}

/// <summary>
/// imgproxy's resize: the scale from its calcScale (fit, fill, fill-down, force, auto; 0 for a side taken from the aspect
/// ratio; never enlarged without <c>enlarge</c>; width and height multiplied by dpr), then its rotation by a multiple of
/// 90°, then the crop to the requested size by gravity (its cropToResult). Sizes are computed for the rotated image, as
/// imgproxy does, but the scaling happens before the rotation, so a leading one still shrinks on load.
/// </summary>
public sealed record ImgproxyResizeStep(ResizingType Type, int Width, int Height, double Dpr, bool Enlarge, int Rotate, ImgproxyGravity Gravity) : IScalingStep
{
    public string Op => "resize";

    public Enums.Kernel Kernel => Enums.Kernel.Lanczos3;

    private bool Swaps => Rotate is 90 or 270;

    private int TargetWidth => (int)Math.Round(Width * Dpr);
    private int TargetHeight => (int)Math.Round(Height * Dpr);

    public (int Width, int Height) ScaledSize(int width, int height)
    {
        var (w, h) = Swaps ? (height, width) : (width, height);
        var (sw, sh) = ScaledUpright(w, h);
        return Swaps ? (sh, sw) : (sw, sh);
    }

    private (int Width, int Height) ScaledUpright(int srcW, int srcH)
    {
        var (targetW, targetH) = (TargetWidth, TargetHeight);
        double dstW = targetW == 0 ? srcW : targetW, dstH = targetH == 0 ? srcH : targetH;
        double wShrink = dstW == srcW ? 1 : srcW / dstW, hShrink = dstH == srcH ? 1 : srcH / dstH;
        if (wShrink != 1 || hShrink != 1)
        {
            var type = Resolve(srcW, srcH, dstW, dstH);
            if (targetW == 0 && type != ResizingType.Force) wShrink = hShrink;
            else if (targetH == 0 && type != ResizingType.Force) hShrink = wShrink;
            else if (type == ResizingType.Fit) wShrink = hShrink = Math.Max(wShrink, hShrink);
            else if (type is ResizingType.Fill or ResizingType.FillDown) wShrink = hShrink = Math.Min(wShrink, hShrink);
        }
        if (!Enlarge)
        {
            var least = Math.Min(wShrink, hShrink);
            if (least < 1)
            {
                wShrink /= least;
                hShrink /= least;
            }
        }
        return (Math.Max(1, (int)Math.Round(srcW / wShrink)), Math.Max(1, (int)Math.Round(srcH / hShrink)));
    }

    /// <summary><c>auto</c> fills when source and result have the same orientation, and fits otherwise.</summary>
    private ResizingType Resolve(double srcW, double srcH, double dstW, double dstH)
    {
        if (Type != ResizingType.Auto) return Type;
        var sameOrientation = srcW - srcH >= 0 && dstW - dstH >= 0 || srcW - srcH < 0 && dstW - dstH < 0;
        return sameOrientation ? ResizingType.Fill : ResizingType.Fit;
    }

    public (int Width, int Height) OutputSize(int width, int height)
    {
        var (w, h) = ScaledSize(width, height);
        if (Swaps) (w, h) = (h, w);
        var (cw, ch) = ResultSize(w, h);
        return ImgproxyPlacement.CropSize(w, h, cw, ch);
    }

    /// <summary>The crop after scaling; fill-down without enlarge shrinks it to keep the requested aspect ratio.</summary>
    private (int Width, int Height) ResultSize(int imageWidth, int imageHeight)
    {
        var (w, h) = (TargetWidth, TargetHeight);
        if (Type == ResizingType.FillDown && !Enlarge && w > 0 && h > 0)
        {
            var diffW = (double)w / imageWidth;
            var diffH = (double)h / imageHeight;
            if (diffW > diffH && diffW > 1) (w, h) = (imageWidth, (int)Math.Round(imageWidth * ((double)h / w)));
            else if (diffH > diffW && diffH > 1) (w, h) = ((int)Math.Round(imageHeight * ((double)w / h)), imageHeight);
        }
        return (w, h);
    }

    public Image Apply(Image image)
    {
        var (w, h) = ScaledSize(image.Width, image.Height);
        using var scaled = ResizeStep.ScaleExactly(image, w, h, Kernel);
        return Finish(scaled);
    }

    public Image Finish(Image scaled)
    {
        using var rotated = Rotate switch
        {
            90 => scaled.Rot(Enums.Angle.D90),
            180 => scaled.Rot(Enums.Angle.D180),
            270 => scaled.Rot(Enums.Angle.D270),
            _ => scaled.Copy(),
        };
        var (w, h) = ResultSize(rotated.Width, rotated.Height);
        return ImgproxyPlacement.Crop(rotated, w, h, Gravity, Dpr);
    }
}

/// <summary>imgproxy's crop option, before resizing: a size (from 1 up in pixels, below 1 a fraction, 0 the whole side) placed by gravity.</summary>
public sealed record ImgproxyCropStep(double Width, double Height, ImgproxyGravity Gravity) : ITransformStep
{
    public string Op => "crop";

    private static int Size(int side, double crop) => crop switch
    {
        0 => 0,
        >= 1 => (int)crop,
        _ => Math.Max(1, (int)Math.Round(side * crop)),
    };

    public (int Width, int Height) OutputSize(int width, int height) =>
        ImgproxyPlacement.CropSize(width, height, Size(width, Width), Size(height, Height));

    public Image Apply(Image image) => ImgproxyPlacement.Crop(image, Size(image.Width, Width), Size(image.Height, Height), Gravity, 1);
}

/// <summary>imgproxy's extend: a result smaller than the requested size is placed on a canvas of that size by gravity.</summary>
public sealed record ImgproxyExtendStep(int Width, int Height, ImgproxyGravity Gravity, double Dpr, Rgba? Background) : ITransformStep
{
    public string Op => "extend";

    public (int Width, int Height) OutputSize(int width, int height)
    {
        var (w, h) = ((int)Math.Round(Width * Dpr), (int)Math.Round(Height * Dpr));
        return (Math.Max(w, width), Math.Max(h, height));
    }

    public Image Apply(Image image)
    {
        var (w, h) = OutputSize(image.Width, image.Height);
        if (w == image.Width && h == image.Height) return image.Copy();
        var (left, top) = ImgproxyPlacement.Position(w, h, image.Width, image.Height, Gravity, Dpr);
        return ImgproxyPlacement.Embed(image, left, top, w, h, Background);
    }
}

/// <summary>imgproxy's padding: CSS-style borders (scaled by dpr) added around the result.</summary>
public sealed record ImgproxyPaddingStep(Padding Padding, double Dpr, Rgba? Background) : ITransformStep
{
    public string Op => "padding";

    private int Scaled(int side) => (int)Math.Round(side * Dpr, MidpointRounding.ToEven);

    public (int Width, int Height) OutputSize(int width, int height) =>
        (width + Scaled(Padding.Left) + Scaled(Padding.Right), height + Scaled(Padding.Top) + Scaled(Padding.Bottom));

    public Image Apply(Image image)
    {
        var (w, h) = OutputSize(image.Width, image.Height);
        return ImgproxyPlacement.Embed(image, Scaled(Padding.Left), Scaled(Padding.Top), w, h, Background);
    }
}

/// <summary>
/// imgproxy's pixelate: the image (its edges repeated up to a multiple of the block size) is averaged down by the block
/// size and zoomed back with each average as one block, then cut to the original size.
/// </summary>
public sealed record PixelateStep(int Size) : ITransformStep
{
    public string Op => "pixelate";

    public Image Apply(Image image)
    {
        if (Size < 2) return image.Copy();
        var width = (image.Width + Size - 1) / Size * Size;
        var height = (image.Height + Size - 1) / Size * Size;
        using var padded = image.Embed(0, 0, width, height, extend: Enums.Extend.Copy);
        using var shrunk = padded.Shrink(Size, Size);
        using var zoomed = shrunk.Zoom(Size, Size);
        using var cut = zoomed.Crop(0, 0, image.Width, image.Height);
        return ColourBands.ToUchar(cut.Copy());
    }
}

/// <summary>Transparency flattened onto a colour, which imgproxy does whenever the background option is given.</summary>
public sealed record FlattenStep(Rgba Background) : ITransformStep
{
    public string Op => "background";

    public Image Apply(Image image) => image.HasAlpha() ? image.Flatten(background: Background.ForBands(image.Bands - 1)) : image.Copy();
}
