namespace Iris.Core.Faces;

/// <summary>
/// The manifest's <c>face_detector</c> section. Only UltraFace exports with built-in box decoding are implemented
/// (outputs <c>scores [1, N, 2]</c> and <c>boxes [1, N, 4]</c> in relative corner form); the rest is parameters.
/// </summary>
public sealed record FaceDetectorSpec
{
    public string Architecture { get; init; } = "ultraface";

    /// <summary>The ONNX file, one of the manifest's files.</summary>
    public required string Model { get; init; }

    public string? InputName { get; init; }
    public string ScoresOutput { get; init; } = "scores";
    public string BoxesOutput { get; init; } = "boxes";

    public int InputWidth { get; init; } = 320;
    public int InputHeight { get; init; } = 240;

    /// <summary><c>rgb</c> or <c>bgr</c>.</summary>
    public string ChannelOrder { get; init; } = "rgb";

    /// <summary>value = (pixel − mean) / std; UltraFace uses (x − 127) / 128.</summary>
    public float[] Mean { get; init; } = [127f, 127f, 127f];
    public float[] Std { get; init; } = [128f, 128f, 128f];

    /// <summary>The authors' demo keeps faces scoring above 0.7.</summary>
    public float DefaultMinConfidence { get; init; } = 0.7f;

    /// <summary>Hard NMS overlap threshold (the authors' demo: 0.3).</summary>
    public float NmsIou { get; init; } = 0.3f;
}
