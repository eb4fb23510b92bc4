using System.Runtime.Intrinsics;

namespace Iris.Core.Imaging.Preprocessing;

/// <summary>
/// Per-channel pixel normalisation <c>value = (pixel · scale − mean[c]) / std[c]</c>, with mean and std in RGB order
/// whatever order the model reads its channels in. One arithmetic for every model: the rescaled pixel is rounded to
/// float32 first (numpy's rescale, which Hugging Face processors do), then mean and std apply in double precision and
/// the result is rounded once. For 8-bit sources the 256 values per channel are computed once, into a lookup table.
/// </summary>
public sealed record PixelNormalization
{
    private readonly float[] _table;

    public PixelNormalization(double scale, float[]? mean = null, float[]? std = null)
    {
        if (mean is { Length: not 3 } || std is { Length: not 3 })
            throw new ArgumentException("mean and std need exactly 3 values (R, G, B).");
        if (std is not null && std.Any(s => s == 0 || !float.IsFinite(s)))
            throw new ArgumentException("std values must be finite and non-zero.");
        if (scale == 0 || !double.IsFinite(scale))
            throw new ArgumentException("scale must be finite and non-zero.");
        Scale = scale;
        Mean = mean ?? [0, 0, 0];
        Std = std ?? [1, 1, 1];
        IsIdentity = scale == 1 && Mean.All(m => m == 0) && Std.All(s => s == 1);
        _table = new float[3 * 256];
        for (var c = 0; c < 3; c++)
            for (var v = 0; v < 256; v++)
                _table[c * 256 + v] = Apply(v, c);
    }

    /// <summary>No normalisation at all: pixels go into the tensor as they are (0..255).</summary>
    public static PixelNormalization None { get; } = new(1);

    public double Scale { get; }
    public float[] Mean { get; }
    public float[] Std { get; }

    /// <summary>Scale 1, mean 0, std 1: <see cref="Apply"/> returns its input unchanged.</summary>
    public bool IsIdentity { get; }

    /// <summary>The normalised value of <paramref name="value"/> in RGB channel <paramref name="channel"/>.</summary>
    public float Apply(float value, int channel) =>
        (float)(((float)(value * Scale) - (double)Mean[channel]) / Std[channel]);

    /// <summary><see cref="Apply(float, int)"/> on every value of <paramref name="values"/>, in place, with the same two roundings.</summary>
    public void Apply(Span<float> values, int channel)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (scale, mean, std) = (Vector256.Create(Scale), Vector256.Create((double)Mean[channel]), Vector256.Create((double)Std[channel]));
            for (; i <= values.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (low, high) = Vector256.Widen(Vector256.Create<float>(values[i..]));
                var (rescaledLow, rescaledHigh) = Vector256.Widen(Vector256.Narrow(low * scale, high * scale));
                Vector256.Narrow((rescaledLow - mean) / std, (rescaledHigh - mean) / std).CopyTo(values[i..]);
            }
        }
        for (; i < values.Length; i++)
            values[i] = Apply(values[i], channel);
    }

    /// <summary>The 256 normalised values of RGB channel <paramref name="channel"/>, indexed by the 8-bit pixel value.</summary>
    public ReadOnlySpan<float> Table(int channel) => _table.AsSpan(channel * 256, 256);

    /// <summary>Mean or std given in the tensor's channel order (PaddleOCR's configs) turned into RGB order.</summary>
    public static float[]? ToRgbOrder(float[]? values, bool bgr) => values is null || !bgr ? values : [values[2], values[1], values[0]];
}
