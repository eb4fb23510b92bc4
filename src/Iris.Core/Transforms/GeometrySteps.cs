using NetVips;

namespace Iris.Core.Transforms;

public enum ResizeFit { Inside, Contain, Cover, Fill, Outside }

public enum Gravity { Centre, North, South, East, West, NorthEast, NorthWest, SouthEast, SouthWest, Attention, Entropy }

/// <summary>
/// Resize to a box. <c>inside</c> fits within it keeping the aspect ratio; <c>contain</c> does the same then pads to exactly
/// the box; <c>cover</c> fills the box and crops the overflow (by gravity, or smartly); <c>fill</c> stretches to the box;
/// <c>outside</c> covers the box without cropping. Without <c>enlarge</c> an image is never scaled up.
/// </summary>
public sealed record ResizeStep(int? Width, int? Height, ResizeFit Fit, bool Enlarge, Enums.Kernel Kernel, Gravity Gravity, Rgba? Background) : IScalingStep
{
    public string Op => "resize";

    /// <summary>The size right after scaling, before cover's crop or contain's padding.</summary>
    public (int Width, int Height) ScaledSize(int width, int height)
    {
        double sx, sy;
        if (Width is null) sx = sy = (double)Height!.Value / height;
        else if (Height is null) sx = sy = (double)Width.Value / width;
        else
        {
            sx = (double)Width.Value / width;
            sy = (double)Height.Value / height;
            switch (Fit)
            {
                case ResizeFit.Inside or ResizeFit.Contain: sx = sy = Math.Min(sx, sy); break;
                case ResizeFit.Cover or ResizeFit.Outside: sx = sy = Math.Max(sx, sy); break;
            }
        }
        if (!Enlarge)
        {
            sx = Math.Min(sx, 1);
            sy = Math.Min(sy, 1);
        }
        return (Math.Max(1, (int)Math.Round(width * sx)), Math.Max(1, (int)Math.Round(height * sy)));
    }

    public (int Width, int Height) OutputSize(int width, int height)
    {
        var (w, h) = ScaledSize(width, height);
        if (Width is null || Height is null) return (w, h);
        return Fit switch
        {
            ResizeFit.Cover => (Math.Min(w, Width.Value), Math.Min(h, Height.Value)),
            ResizeFit.Contain => (Math.Max(w, Width.Value), Math.Max(h, Height.Value)),
            _ => (w, h),
        };
    }

    public Image Apply(Image image)
    {
        var (w, h) = ScaledSize(image.Width, image.Height);
        using var scaled = ScaleExactly(image, w, h, Kernel);
        return Finish(scaled);
    }

    /// <summary>Cover's crop or contain's padding, applied to an image already scaled to <see cref="ScaledSize"/>.</summary>
    public Image Finish(Image scaled)
    {
        if (Width is null || Height is null) return scaled.Copy();
        switch (Fit)
        {
            case ResizeFit.Cover:
                return GravityCrop.Apply(scaled, Width.Value, Height.Value, Gravity);
            case ResizeFit.Contain when scaled.Width < Width.Value || scaled.Height < Height.Value:
                var width = Math.Max(scaled.Width, Width.Value);
                var height = Math.Max(scaled.Height, Height.Value);
                var background = (Background ?? (scaled.HasAlpha() ? new Rgba(0, 0, 0, 0) : Rgba.Black)).ForBands(scaled.Bands);
                return scaled.Embed((width - scaled.Width) / 2, (height - scaled.Height) / 2, width, height,
                    extend: Enums.Extend.Background, background: background);
            default:
                return scaled.Copy();
        }
    }

    internal static Image ScaleExactly(Image image, int width, int height, Enums.Kernel kernel)
    {
        if (image.Width == width && image.Height == height) return image.Copy();
        // Alpha is premultiplied so that transparent pixels' colours do not bleed into their neighbours.
        using var source = image.HasAlpha() ? image.Premultiply() : image.Copy();
        using var resized = source.Resize((double)width / image.Width, kernel: kernel, vscale: (double)height / image.Height);
        using var restored = image.HasAlpha() ? ColourBands.ToUchar(resized.Unpremultiply()) : resized.Copy();
        if (restored.Width == width && restored.Height == height) return restored.Copy();
        // libvips rounds the scaled size itself; a one-pixel disagreement is settled by cropping or repeating the edge.
        using var cropped = restored.Crop(0, 0, Math.Min(width, restored.Width), Math.Min(height, restored.Height));
        return cropped.Embed(0, 0, width, height, extend: Enums.Extend.Copy);
    }
}

/// <summary>Crop to a size at a compass gravity, or around the most interesting region (libvips attention/entropy).</summary>
internal static class GravityCrop
{
    public static Image Apply(Image image, int width, int height, Gravity gravity)
    {
        width = Math.Min(width, image.Width);
        height = Math.Min(height, image.Height);
        if (width == image.Width && height == image.Height) return image.Copy();
        if (gravity is Gravity.Attention or Gravity.Entropy)
            return image.Smartcrop(width, height, interesting: gravity == Gravity.Attention ? Enums.Interesting.Attention : Enums.Interesting.Entropy);
        int dx = image.Width - width, dy = image.Height - height;
        var x = gravity switch
        {
            Gravity.West or Gravity.NorthWest or Gravity.SouthWest => 0,
            Gravity.East or Gravity.NorthEast or Gravity.SouthEast => dx,
            _ => dx / 2,
        };
        var y = gravity switch
        {
            Gravity.North or Gravity.NorthWest or Gravity.NorthEast => 0,
            Gravity.South or Gravity.SouthWest or Gravity.SouthEast => dy,
            _ => dy / 2,
        };
        return image.Crop(x, y, width, height);
    }
}

/// <summary>Crop a rectangle (x, y, width, height), or a width × height region placed by gravity or smart crop.</summary>
public sealed record CropStep(int? X, int? Y, int? Width, int? Height, Gravity Gravity) : ITransformStep
{
    public string Op => "crop";

    private bool IsRectangle => X is not null || Y is not null;

    public (int Width, int Height) OutputSize(int width, int height)
    {
        if (!IsRectangle) return (Math.Min(Width ?? width, width), Math.Min(Height ?? height, height));
        int x = X ?? 0, y = Y ?? 0;
        return (Math.Max(0, Math.Min(Width ?? width - x, width - x)), Math.Max(0, Math.Min(Height ?? height - y, height - y)));
    }

    public Image Apply(Image image)
    {
        if (!IsRectangle)
            return GravityCrop.Apply(image, Width ?? image.Width, Height ?? image.Height, Gravity);
        int x = X ?? 0, y = Y ?? 0;
        var (w, h) = OutputSize(image.Width, image.Height);
        if (w <= 0 || h <= 0)
            throw new InvalidTransformException(
                $"crop rectangle at ({x}, {y}) lies outside the {image.Width}×{image.Height} image; crop.x must be below {image.Width} and crop.y below {image.Height}.",
                x >= image.Width ? "crop.x" : "crop.y");
        return image.Crop(x, y, w, h);
    }
}

/// <summary>Remove borders of one colour (the top-left pixel's unless given), within a threshold, as libvips find_trim sees them.</summary>
public sealed record TrimStep(double Threshold, Rgba? Background) : ITransformStep
{
    public string Op => "trim";

    public Image Apply(Image image)
    {
        // find_trim median-filters first, which needs at least 3×3 pixels; anything smaller has no border to trim.
        if (image.Width < 3 || image.Height < 3) return image.Copy();
        var background = Background?.ForBands(image.Bands) ?? image.Getpoint(0, 0);
        if (image.HasAlpha()) background = background[..^1];
        using var flat = image.HasAlpha() ? image.Flatten(background: background) : image.Copy();
        var box = flat.FindTrim(threshold: Threshold, background: background);
        int left = Convert.ToInt32(box[0]), top = Convert.ToInt32(box[1]), width = Convert.ToInt32(box[2]), height = Convert.ToInt32(box[3]);
        // A single-colour image has nothing left after trimming; keep it whole rather than fail.
        if (width <= 0 || height <= 0) return image.Copy();
        return image.Crop(left, top, width, height);
    }
}

/// <summary>Rotate clockwise: multiples of 90° are exact pixel moves; other angles interpolate and fill the corners with the background.</summary>
public sealed record RotateStep(double Angle, Rgba? Background) : ITransformStep
{
    public string Op => "rotate";

    private double Normalised => ((Angle % 360) + 360) % 360;

    public (int Width, int Height) OutputSize(int width, int height)
    {
        var a = Normalised;
        if (a is 90 or 270) return (height, width);
        if (a % 90 == 0) return (width, height);
        var r = a * Math.PI / 180;
        double c = Math.Abs(Math.Cos(r)), s = Math.Abs(Math.Sin(r));
        return ((int)Math.Ceiling(width * c + height * s), (int)Math.Ceiling(width * s + height * c));
    }

    public Image Apply(Image image) => Normalised switch
    {
        0 => image.Copy(),
        90 => image.Rot(Enums.Angle.D90),
        180 => image.Rot(Enums.Angle.D180),
        270 => image.Rot(Enums.Angle.D270),
        var a => image.Rotate(a, background: (Background ?? (image.HasAlpha() ? new Rgba(0, 0, 0, 0) : Rgba.Black)).ForBands(image.Bands)),
    };
}

/// <summary>flip mirrors top to bottom, flop mirrors left to right (ImageMagick's names).</summary>
public sealed record FlipStep(bool Vertical) : ITransformStep
{
    public string Op => Vertical ? "flip" : "flop";

    public Image Apply(Image image) => image.Flip(Vertical ? Enums.Direction.Vertical : Enums.Direction.Horizontal);
}
