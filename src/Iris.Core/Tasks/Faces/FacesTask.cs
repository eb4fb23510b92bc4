using Iris.Core.Faces;
using Iris.Core.Imaging;
using Iris.Core.Inference;

namespace Iris.Core.Tasks.Faces;

/// <summary><c>faces</c>: face boxes. Parameters <c>model</c>, <c>min_confidence</c> 0–1, <c>max_faces</c> 1–1000.</summary>
public sealed class FacesTask(ModelRuntime models, FacesTask.Defaults defaults)
    : ModelTask<FacesTask.Parameters, UltraFaceDetector, FaceDetectionResult>(models, "faces")
{
    /// <summary>Faces:Model, Faces:MinConfidence, Faces:MaxFaces.</summary>
    public sealed record Defaults(string Model, float MinConfidence, int MaxFaces);

    public sealed record Parameters(string Model, FaceDetectionParameters Faces) : IModelParameters;

    public const int MaxFacesLimit = 1000;

    public override string Name => "faces";

    public Defaults Default => defaults;

    public override Parameters Read(ParameterReader reader) => new(
        reader.String("model") ?? defaults.Model,
        new FaceDetectionParameters(
            reader.Float("min_confidence", defaults.MinConfidence, 0f, 1f),
            reader.Int("max_faces", defaults.MaxFaces, 1, MaxFacesLimit)));

    /// <summary>The detector stretches the image to its input.</summary>
    public override DecodeNeed InputNeed(UltraFaceDetector model, Parameters parameters) =>
        DecodeNeed.Stretch(model.Spec.InputWidth, model.Spec.InputHeight);

    public override async Task<FaceDetectionResult> RunAsync(UltraFaceDetector model, Parameters parameters, TaskInput input, CancellationToken cancellationToken) =>
        (await model.DetectAsync(input.Image, parameters.Faces, cancellationToken)).InOriginalPixels(input.Image);

    public override string? ModelOf(FaceDetectionResult result) => result.Model;
}
