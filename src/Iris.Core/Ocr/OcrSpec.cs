namespace Iris.Core.Ocr;

/// <summary>
/// How to run a PaddleOCR-style reader (DB text detection, optional 180° direction classifier, CTC recognition),
/// read from a manifest's <c>ocr</c> section. Defaults are PaddleOCR's own (<c>tools/infer/utility.py</c>).
/// </summary>
public sealed record OcrSpec
{
    public required string DetectionModel { get; init; }
    public string? ClassifierModel { get; init; }
    public required string RecognitionModel { get; init; }

    /// <summary>One character per line; CTC index i ≥ 1 is line i − 1, index 0 is the blank.</summary>
    public required string Dictionary { get; init; }

    public OcrDetectionSpec Detection { get; init; } = new();
    public OcrClassifierSpec Classifier { get; init; } = new();
    public OcrRecognitionSpec Recognition { get; init; } = new();

    /// <summary>Lines whose recognition confidence is below this are dropped (PaddleOCR's drop_score).</summary>
    public float DefaultMinConfidence { get; init; } = 0.5f;
}

public sealed record OcrDetectionSpec
{
    /// <summary>The longer side is scaled down to at most this many pixels (never up).</summary>
    public int MaxSide { get; init; } = 960;

    /// <summary>Both sides are rounded to a multiple of this (the network downsamples by 32).</summary>
    public int Multiple { get; init; } = 32;

    /// <summary><c>bgr</c> or <c>rgb</c>: PaddleOCR feeds OpenCV's BGR images, and <see cref="Mean"/>/<see cref="Std"/> apply in that order.</summary>
    public string ChannelOrder { get; init; } = "bgr";
    public float[] Mean { get; init; } = [0.485f, 0.456f, 0.406f];
    public float[] Std { get; init; } = [0.229f, 0.224f, 0.225f];

    public float BinaryThreshold { get; init; } = 0.3f;
    public float BoxThreshold { get; init; } = 0.6f;
    public float UnclipRatio { get; init; } = 1.5f;
    public int MinSide { get; init; } = 3;
    public int MaxCandidates { get; init; } = 1000;

    /// <summary>
    /// An image wider than this many times its height (a single cropped line) is padded above and below before
    /// detection, as RapidOCR does: DB finds no clean line when the text touches the top and bottom edges. 0 = never.
    /// </summary>
    public float PadAspectRatio { get; init; } = 8f;

    /// <summary>An image shorter than this is padded the same way.</summary>
    public int PadMinHeight { get; init; } = 30;
}

public sealed record OcrClassifierSpec
{
    public int InputHeight { get; init; } = 48;
    public int InputWidth { get; init; } = 192;

    /// <summary>A crop is turned 180° only when the classifier says so with more than this confidence.</summary>
    public float Threshold { get; init; } = 0.9f;
    public int BatchSize { get; init; } = 6;
}

public sealed record OcrRecognitionSpec
{
    public string ChannelOrder { get; init; } = "bgr";

    /// <summary>Input is <c>(x/255 − mean)/std</c>; PaddleOCR uses 0.5/0.5 (see the README for why the manifest may differ).</summary>
    public float[] Mean { get; init; } = [0.5f, 0.5f, 0.5f];
    public float[] Std { get; init; } = [0.5f, 0.5f, 0.5f];
    public int InputHeight { get; init; } = 48;

    /// <summary>The narrowest input width; wider crops in a batch widen the whole batch (PaddleOCR's 3×48×320).</summary>
    public int MinWidth { get; init; } = 320;

    /// <summary>
    /// The widest input: a longer line is squashed into it (as the direction classifier's input is). 256 × 48 px
    /// (a 256:1 line) keeps a batch's tensor bounded (under 50 MB for 6 lines) whatever boxes the detector finds.
    /// </summary>
    public int MaxWidth { get; init; } = 12_288;
    public int BatchSize { get; init; } = 6;

    /// <summary>The last class is a space, after the dictionary's characters (PaddleOCR's use_space_char).</summary>
    public bool SpaceCharacter { get; init; } = true;

    /// <summary>A crop at least this many times taller than wide is vertical text and is turned 90° before reading.</summary>
    public float VerticalRatio { get; init; } = 1.5f;
}
