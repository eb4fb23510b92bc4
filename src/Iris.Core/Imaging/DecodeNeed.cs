namespace Iris.Core.Imaging;

/// <summary>How a model's pre-processing maps an image onto its input, which is what decides how small it may be decoded.</summary>
public enum DecodeFit
{
    /// <summary>The task reads the image at its full resolution (OCR, <c>info</c>, hashes, transforms).</summary>
    Full,

    /// <summary>The whole image is scaled to fit within Width×Height, aspect kept (a letterbox).</summary>
    Contain,

    /// <summary>Each side is scaled to Width and Height on its own.</summary>
    Stretch,

    /// <summary>The shorter side is scaled to Width (then, usually, a centre crop).</summary>
    ShorterSide,
}

/// <summary>
/// How much of an image's resolution a task needs: the resize its model's reference pre-processing makes. The decoder may
/// shrink the image on load (JPEG DCT scaling, WebP scaled decode) as long as the reference resampler is still left to
/// shrink it by at least <see cref="Margin"/> on every side it samples, so the last step, the one the model was trained
/// on, stays the reference's.
/// </summary>
public readonly record struct DecodeNeed(DecodeFit Fit, int Width, int Height)
{
    /// <summary>
    /// The reference resampler still shrinks by at least this much after shrink-on-load. At 2× the model's antialiased
    /// filter averages over two or more decoded pixels per output pixel, so DCT scaling's own averaging is smoothed away
    /// (the measured worst cases are in the README's "Shrink-on-load" section).
    /// </summary>
    public const int Margin = 2;

    public static DecodeNeed FullResolution => default;

    public static DecodeNeed Contain(int width, int height) => new(DecodeFit.Contain, width, height);

    public static DecodeNeed Stretch(int width, int height) => new(DecodeFit.Stretch, width, height);

    public static DecodeNeed ShorterSide(int side) => new(DecodeFit.ShorterSide, side, side);

    public bool IsFull => Fit == DecodeFit.Full || Width < 1 || Height < 1;

    /// <summary>
    /// The largest factor by which an upright image of <paramref name="width"/>×<paramref name="height"/> may be shrunk
    /// on load for this need; 1 (or less) means decode at full resolution.
    /// </summary>
    public double MaxShrink(int width, int height) => IsFull ? 1 : Fit switch
    {
        // The letterbox scales by min(W/w, H/h): shrinking by f multiplies that by f.
        DecodeFit.Contain => Math.Max((double)width / Width, (double)height / Height) / Margin,
        DecodeFit.Stretch => Math.Min((double)width / Width, (double)height / Height) / Margin,
        DecodeFit.ShorterSide => (double)Math.Min(width, height) / Width / Margin,
        _ => 1,
    };

    /// <summary>The largest shrink that every one of <paramref name="needs"/> allows (1 when there are none or one is full).</summary>
    public static double MaxShrink(IReadOnlyList<DecodeNeed> needs, int width, int height)
    {
        if (needs.Count == 0) return 1;
        var shrink = double.MaxValue;
        foreach (var need in needs)
            shrink = Math.Min(shrink, need.MaxShrink(width, height));
        return Math.Max(1, shrink);
    }
}
