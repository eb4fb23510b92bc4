using Iris.Core.Detection;

namespace Iris.Core.Faces;

public sealed record DetectedFace(float Confidence, BoundingBox Box);

public sealed record FaceDetectionTimings(double PreprocessMs, double InferenceMs, double PostprocessMs);

public sealed record FaceDetectionResult(string Model, int Width, int Height, IReadOnlyList<DetectedFace> Faces, FaceDetectionTimings Timings);

public sealed record FaceDetectionParameters(float MinConfidence, int MaxFaces);
