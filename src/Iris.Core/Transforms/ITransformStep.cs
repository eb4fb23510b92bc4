using NetVips;

namespace Iris.Core.Transforms;

/// <summary>
/// One step of a transform pipeline: a function of the image and its own options, parsed and validated before any
/// pixel is touched. libvips is lazy, so a step only describes work; pixels are computed when the result is encoded.
/// Steps may return the image they were given (nothing to do) and must not dispose it.
/// </summary>
public interface ITransformStep
{
    /// <summary>The operation's name as written in the ops string, used in error messages.</summary>
    string Op { get; }

    Image Apply(Image image);

    /// <summary>The size this step produces from an input of the given size, so limits are checked before any work.</summary>
    (int Width, int Height) OutputSize(int width, int height) => (width, height);
}

/// <summary>
/// A step that starts by scaling the image to a size known from the input's size alone. When it is the pipeline's first
/// step, the decoder does the coarse part of the scaling while loading (shrink-on-load) and <see cref="Finish"/> does the rest.
/// </summary>
public interface IScalingStep : ITransformStep
{
    Enums.Kernel Kernel { get; }

    /// <summary>The size right after scaling, before anything <see cref="Finish"/> does.</summary>
    (int Width, int Height) ScaledSize(int width, int height);

    /// <summary>What the step does after scaling (crop, padding, rotation), applied to an image already at <see cref="ScaledSize"/>.</summary>
    Image Finish(Image scaled);
}

/// <summary>Band handling shared by the steps: colour operations leave alpha alone, results go back to 8 bits.</summary>
internal static class ColourBands
{
    /// <summary>Applies <paramref name="operation"/> to the colour bands only and re-attaches the alpha band untouched.</summary>
    public static Image MapColour(Image image, Func<Image, Image> operation)
    {
        if (!image.HasAlpha())
            return ToUchar(operation(image));
        using var colour = image.ExtractBand(0, n: image.Bands - 1);
        using var alpha = image.ExtractBand(image.Bands - 1);
        using var mapped = ToUchar(operation(colour));
        return mapped.Bandjoin(alpha);
    }

    /// <summary>Rounds and clips to 0–255 (libvips' cast clamps out-of-range values), since filters compute in int or float.</summary>
    public static Image ToUchar(Image image)
    {
        if (image.Format == Enums.BandFormat.Uchar) return image;
        using (image)
        {
            if (image.Format is not (Enums.BandFormat.Float or Enums.BandFormat.Double))
                return image.Cast(Enums.BandFormat.Uchar);
            using var rounded = image.Round(Enums.OperationRound.Rint);
            return rounded.Cast(Enums.BandFormat.Uchar);
        }
    }

    /// <summary>Three colour bands (plus alpha if present): grey images are widened so colour maths has R, G and B.</summary>
    public static Image ToSrgb(Image image) =>
        image.Interpretation is Enums.Interpretation.Srgb && image.Bands >= 3 ? image : image.Colourspace(Enums.Interpretation.Srgb);
}
