namespace Iris.Core.Faces;

/// <summary>
/// The manifest's <c>face_embedder</c> section. Only Human's FaceRes layout is implemented (one NHWC RGB 0–255 input,
/// a raw descriptor, a gender sigmoid and 100 softmax age bins); the rest is parameters.
/// </summary>
public sealed record FaceEmbedderSpec
{
    public string Architecture { get; init; } = "faceres";

    /// <summary>The ONNX file, one of the manifest's files.</summary>
    public required string Model { get; init; }

    public string? InputName { get; init; }

    /// <summary>The square input side (FaceRes: 224).</summary>
    public int InputSize { get; init; } = 224;

    public string DescriptorOutput { get; init; } = "global_pooling/Mean";
    public string? GenderOutput { get; init; } = "gender_pred/Sigmoid";
    public string? AgeOutput { get; init; } = "age_pred/Softmax";

    /// <summary>
    /// The detector's box is widened to a square of side max(w, h) × (1 + 2 × margin) around its centre before the crop
    /// (FaceRes wants loose crops with hair and chin; 0.1 turns an UltraFace box into about the hand-made square crops of
    /// the mirror's reference data, and on testdata/real/faces-16.jpg it gave wider gaps between same- and
    /// different-person similarities than 0.2).
    /// </summary>
    public float CropMargin { get; init; } = 0.1f;

    /// <summary>Faces per ONNX run; a photo with more faces is embedded in several runs.</summary>
    public int MaxBatch { get; init; } = 16;
}
