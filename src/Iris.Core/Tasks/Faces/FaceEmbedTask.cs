using System.Diagnostics;
using Iris.Core.Faces;
using Iris.Core.Inference;

namespace Iris.Core.Tasks.Faces;

/// <summary>
/// <c>face-embed</c>: the faces of an image with an identity descriptor, age and gender each. The face detector
/// (<c>detector</c>, an UltraFace model) finds them; each is cropped square around its box with the embedder's margin and
/// described by the embedder (<c>model</c>, FaceRes), all faces of the image in one batch. Parameters <c>model</c>,
/// <c>detector</c>, <c>min_confidence</c> 0–1, <c>max_faces</c> 1–1000.
/// </summary>
public sealed class FaceEmbedTask(ModelRuntime models, FaceEmbedTask.Defaults defaults)
    : ImageTask<FaceEmbedTask.Parameters, FaceEmbedTask.Models, FaceEmbeddingResult>
{
    /// <summary>Faces:EmbedModel, Faces:Model, Faces:MinConfidence, Faces:MaxFaces.</summary>
    public sealed record Defaults(string Model, string Detector, float MinConfidence, int MaxFaces);

    public sealed record Parameters(string Model, string Detector, FaceDetectionParameters Faces) : IModelParameters;

    /// <summary>The two models the task runs.</summary>
    public sealed record Models(UltraFaceDetector Detector, FaceResEmbedder Embedder);

    public override string Name => "face-embed";

    public override string ParameterPrefix => "face_embed_";

    public Defaults Default => defaults;

    public override Parameters Read(ParameterReader reader) => new(
        reader.String("model") ?? defaults.Model,
        reader.String("detector") ?? defaults.Detector,
        new FaceDetectionParameters(
            reader.Float("min_confidence", defaults.MinConfidence, 0f, 1f),
            reader.Int("max_faces", defaults.MaxFaces, 1, FacesTask.MaxFacesLimit)));

    public override async Task<Models> LoadAsync(Parameters parameters, CancellationToken cancellationToken)
    {
        var detector = await models.GetFaceDetectorAsync(parameters.Detector, cancellationToken);
        var embedder = await models.GetFaceEmbedderAsync(parameters.Model, cancellationToken);
        return new Models(detector, embedder);
    }

    public override async Task<FaceEmbeddingResult> RunAsync(Models model, Parameters parameters, TaskInput input, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.GetTimestamp();
        var image = input.Image;
        var found = await model.Detector.DetectAsync(image, parameters.Faces, cancellationToken);
        var detectMs = Stopwatch.GetElapsedTime(clock).TotalMilliseconds;
        var crops = found.Faces.Select(f => FaceCrop.Around(f.Box, model.Embedder.CropMargin, image.Width, image.Height)).ToList();
        var (descriptions, preprocessMs, inferenceMs) = await model.Embedder.DescribeAsync(image, crops, cancellationToken);
        var faces = found.Faces.Select((f, i) => new EmbeddedFace(f.Confidence, f.Box, crops[i].Box, descriptions[i])).ToList();
        return new FaceEmbeddingResult(model.Embedder.Manifest.Name, found.Model, image.Width, image.Height, faces,
            new FaceEmbeddingTimings(detectMs, preprocessMs, inferenceMs));
    }

    public override string? ModelOf(FaceEmbeddingResult result) => result.Model;
}
