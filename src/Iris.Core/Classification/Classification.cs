namespace Iris.Core.Classification;

public sealed record ClassPrediction(string Label, int ClassIndex, float Confidence);

public sealed record ClassificationTimings(double PreprocessMs, double InferenceMs, double PostprocessMs);

public sealed record ClassificationResult(string Model, IReadOnlyList<ClassPrediction> Predictions, ClassificationTimings Timings);

/// <summary>Keep the <see cref="TopK"/> most likely classes whose confidence is at least <see cref="MinConfidence"/>.</summary>
public sealed record ClassificationParameters(int TopK, float MinConfidence);
