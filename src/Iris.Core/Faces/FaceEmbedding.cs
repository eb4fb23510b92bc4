using Iris.Core.Detection;

namespace Iris.Core.Faces;

/// <summary>
/// What FaceRes says about one face crop: the identity descriptor (L2-normalised, so the dot product of two is their
/// cosine similarity), the age estimate in years, and the gender with Human's confidence. <see cref="RawNorm"/> is the
/// length of the model's raw descriptor (raw = Descriptor × RawNorm), kept for parity checks against the original.
/// </summary>
public sealed record FaceDescription(float[] Descriptor, float RawNorm, float Age, string Gender, float GenderConfidence);

/// <summary>One face of an image: the detector's confidence and box, the square that was embedded, and its description.</summary>
public sealed record EmbeddedFace(float Confidence, BoundingBox Box, BoundingBox Crop, FaceDescription Description);

public sealed record FaceEmbeddingTimings(double DetectMs, double PreprocessMs, double InferenceMs);

/// <summary>The faces of one image with their descriptors; <see cref="Model"/> is the embedder, <see cref="Detector"/> the face detector.</summary>
public sealed record FaceEmbeddingResult(
    string Model, string Detector, int Width, int Height, IReadOnlyList<EmbeddedFace> Faces, FaceEmbeddingTimings Timings);
