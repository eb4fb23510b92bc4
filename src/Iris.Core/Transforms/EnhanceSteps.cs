using NetVips;

namespace Iris.Core.Transforms;

/// <summary>value × factor: 1 leaves the image as it is, 1.2 is 20 % brighter, 0 is black.</summary>
public sealed record BrightnessStep(double Factor) : ITransformStep
{
    public string Op => "brightness";

    public Image Apply(Image image) => ColourBands.MapColour(image, colour => colour.Linear([Factor], [0], uchar: true));
}

/// <summary>Stretches values away from (factor &gt; 1) or towards (factor &lt; 1) mid-grey 128.</summary>
public sealed record ContrastStep(double Factor) : ITransformStep
{
    public string Op => "contrast";

    public Image Apply(Image image) => ColourBands.MapColour(image, colour => colour.Linear([Factor], [128 * (1 - Factor)], uchar: true));
}

/// <summary>Multiplies chroma in LCh: 0 gives grey, 1 leaves colours as they are, 2 doubles their saturation.</summary>
public sealed record SaturationStep(double Factor) : ITransformStep
{
    public string Op => "saturation";

    public Image Apply(Image image)
    {
        if (image.Bands < 3) return image.Copy();
        return ColourBands.MapColour(image, colour =>
        {
            using var lch = colour.Colourspace(Enums.Interpretation.Lch);
            using var scaled = lch.Linear([1, Factor, 1], [0, 0, 0]);
            return scaled.Colourspace(Enums.Interpretation.Srgb);
        });
    }
}

/// <summary>Blends with a gaussian-blurred copy: 1 unchanged, above 1 sharper (unsharp masking), below 1 softer (PIL's ImageEnhance.Sharpness idea).</summary>
public sealed record SharpnessStep(double Factor) : ITransformStep
{
    public string Op => "sharpness";

    public Image Apply(Image image) => ColourBands.MapColour(image, colour =>
    {
        using var blurred = colour.Gaussblur(1.0);
        using var detail = colour.Cast(Enums.BandFormat.Float) - blurred;
        using var scaledDetail = detail * Factor;
        return blurred + scaledDetail;
    });
}

/// <summary>libvips gamma: value^(1/exponent) on the 0–255 range, so exponents above 1 lighten mid-tones.</summary>
public sealed record GammaStep(double Exponent) : ITransformStep
{
    public string Op => "gamma";

    public Image Apply(Image image) => ColourBands.MapColour(image, colour => colour.Gamma(exponent: Exponent));
}

/// <summary>Auto-level: stretches the darkest colour value to 0 and the brightest to 255, the same for every band so hues stay put.</summary>
public sealed record NormalizeStep : ITransformStep
{
    public string Op => "normalize";

    public Image Apply(Image image) => ColourBands.MapColour(image, colour =>
    {
        double min = colour.Min(), max = colour.Max();
        if (max - min < 1) return colour.Copy();
        var a = 255 / (max - min);
        return colour.Linear([a], [-min * a], uchar: true);
    });
}
