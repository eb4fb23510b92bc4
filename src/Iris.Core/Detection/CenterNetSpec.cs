namespace Iris.Core.Detection;

/// <summary>
/// The manifest's <c>detector</c> section for <c>architecture: centernet</c>: a per-class centre heatmap (sigmoid applied)
/// and a box-edge head (left, top, right, bottom distances in input pixels), NHWC input stretched to the input size.
/// </summary>
public sealed record CenterNetSpec
{
    public required string Model { get; init; }
    public required string Labels { get; init; }
    public string? InputName { get; init; }

    /// <summary>The <c>[1, H/stride, W/stride, classes]</c> heatmap output.</summary>
    public required string HeatmapOutput { get; init; }

    /// <summary>The <c>[1, H/stride, W/stride, 4]</c> box edge output.</summary>
    public required string BoxOutput { get; init; }

    public int InputWidth { get; init; } = 512;
    public int InputHeight { get; init; } = 512;

    /// <summary><c>rgb</c> or <c>bgr</c>.</summary>
    public string ChannelOrder { get; init; } = "rgb";

    /// <summary>Pixels (0..255) are multiplied by this before entering the graph.</summary>
    public float Scale { get; init; } = 1f;

    /// <summary>Input pixels per heatmap cell.</summary>
    public int Stride { get; init; } = 4;

    /// <summary>Peaks kept before the score threshold and NMS (the graph's own TopKV2 k).</summary>
    public int TopK { get; init; } = 100;

    public float NmsIou { get; init; } = 0.4f;

    /// <summary>False: a box suppresses overlapping boxes of any class (Human's <c>tf.image.nonMaxSuppression</c> over all peaks).</summary>
    public bool ClassAwareNms { get; init; }

    public float DefaultMinConfidence { get; init; } = 0.2f;
}
