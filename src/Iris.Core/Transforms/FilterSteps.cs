using NetVips;

namespace Iris.Core.Transforms;

/// <summary>Box blur: the mean of a (2r+1)² neighbourhood, as a separable integer convolution.</summary>
public sealed record BoxBlurStep(int Radius) : ITransformStep
{
    public string Op => "blur";

    public Image Apply(Image image) => ColourBands.MapColour(image, colour =>
    {
        using var mask = Image.NewFromArray(Enumerable.Repeat(1, 2 * Radius + 1).ToArray(), scale: 2 * Radius + 1);
        return colour.Convsep(mask, precision: Enums.Precision.Integer);
    });
}

public sealed record GaussianBlurStep(double Sigma) : ITransformStep
{
    public string Op => "gaussblur";

    public Image Apply(Image image) => ColourBands.MapColour(image, colour => colour.Gaussblur(Sigma));
}

/// <summary>Median of a size × size window: removes salt-and-pepper noise while keeping edges.</summary>
public sealed record MedianStep(int Size) : ITransformStep
{
    public string Op => "median";

    public Image Apply(Image image) => ColourBands.MapColour(image, colour =>
    {
        if (colour.Width >= Size && colour.Height >= Size) return colour.Median(Size);
        // libvips' rank needs the window to fit inside the image; a tiny image is padded by repeating its edges.
        using var padded = colour.Embed(0, 0, Math.Max(Size, colour.Width), Math.Max(Size, colour.Height), extend: Enums.Extend.Copy);
        using var filtered = padded.Median(Size);
        return filtered.Crop(0, 0, colour.Width, colour.Height);
    });
}

/// <summary>
/// libvips' unsharp mask on lightness: <c>sigma</c> is the mask's radius, <c>amount</c> the slope for strong edges (m2),
/// <c>flat</c> the slope for flat areas (m1) and <c>threshold</c> the edge/flat boundary (x1).
/// </summary>
public sealed record SharpenStep(double Sigma, double Amount, double Flat, double Threshold) : ITransformStep
{
    public string Op => "sharpen";

    public Image Apply(Image image)
    {
        using var sharpened = image.Sharpen(sigma: Sigma, x1: Threshold, m1: Flat, m2: Amount);
        return ColourBands.ToUchar(sharpened.Copy());
    }
}

public enum EdgeMethod { Sobel, Canny }

/// <summary>Edges of the image's lightness: Sobel gradient magnitude, or Canny (gaussian smoothing by sigma, then thinning).</summary>
public sealed record EdgeStep(EdgeMethod Method, double Sigma) : ITransformStep
{
    public string Op => "edge";

    public Image Apply(Image image)
    {
        using var grey = Lightness(image);
        using var edges = Method == EdgeMethod.Sobel ? grey.Sobel() : grey.Canny(sigma: Sigma);
        return ColourBands.ToUchar(edges.Copy());
    }

    /// <summary>One 8-bit grey band, transparent areas shown on white, the way they would be displayed.</summary>
    internal static Image Lightness(Image image)
    {
        using var flat = image.HasAlpha() ? image.Flatten(background: [255, 255, 255]) : image.Copy();
        using var grey = flat.Colourspace(Enums.Interpretation.Bw);
        return ColourBands.ToUchar(grey.ExtractBand(0));
    }
}

/// <summary>A 3×3 integer convolution of each colour band: emboss (relief lit from the top left) and contour (PIL's CONTOUR kernel).</summary>
public sealed record KernelStep(string Name) : ITransformStep
{
    public static readonly int[,] Emboss = { { -2, -1, 0 }, { -1, 1, 1 }, { 0, 1, 2 } };

    // PIL's ImageFilter.CONTOUR: flat areas become white (offset 255), edges dark lines.
    public static readonly int[,] Contour = { { -1, -1, -1 }, { -1, 8, -1 }, { -1, -1, -1 } };

    public string Op => Name;

    public Image Apply(Image image)
    {
        var contour = Name == "contour";
        using var mask = Image.NewFromArray(contour ? Contour : Emboss, scale: 1, offset: contour ? 255 : 0);
        if (contour)
        {
            using var grey = EdgeStep.Lightness(image);
            using var lines = grey.Conv(mask, precision: Enums.Precision.Integer);
            return ColourBands.ToUchar(lines.Copy());
        }
        return ColourBands.MapColour(image, colour => colour.Conv(mask, precision: Enums.Precision.Integer));
    }
}

/// <summary>Grayscale (one band, alpha kept), sepia (the classic Microsoft sepia matrix) and invert (255 − value, alpha kept).</summary>
public sealed record ToneStep(string Name) : ITransformStep
{
    public static readonly double[,] Sepia = { { 0.393, 0.769, 0.189 }, { 0.349, 0.686, 0.168 }, { 0.272, 0.534, 0.131 } };

    public string Op => Name;

    public Image Apply(Image image)
    {
        switch (Name)
        {
            case "grayscale":
                return image.Colourspace(Enums.Interpretation.Bw);
            case "sepia":
                using (var srgb = ColourBands.ToSrgb(image))
                using (var matrix = Image.NewFromArray(Sepia))
                    return ColourBands.MapColour(srgb, colour => colour.Recomb(matrix));
            default:
                return ColourBands.MapColour(image, colour => colour.Invert());
        }
    }
}
