using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Inference;

namespace Iris.Core.Tasks.Detection;

/// <summary><c>detect</c>: objects with labels and boxes. Parameters <c>model</c>, <c>min_confidence</c> 0–1, <c>max_detections</c> 1–1000.</summary>
public sealed class DetectTask(ModelRuntime models, DetectTask.Defaults defaults)
    : ModelTask<DetectTask.Parameters, IObjectDetector, DetectionResult>(models, "detect")
{
    /// <summary>Detection:Model, Detection:MinConfidence, Detection:MaxDetections.</summary>
    public sealed record Defaults(string Model, float MinConfidence, int MaxDetections);

    public sealed record Parameters(string Model, DetectionParameters Detection) : IModelParameters;

    public const int MaxDetectionsLimit = 1000;

    public override string Name => "detect";

    public Defaults Default => defaults;

    public override Parameters Read(ParameterReader reader) => new(
        reader.String("model") ?? defaults.Model,
        new DetectionParameters(
            reader.Float("min_confidence", defaults.MinConfidence, 0f, 1f),
            reader.Int("max_detections", defaults.MaxDetections, 1, MaxDetectionsLimit)));

    /// <summary>The detector says how its pre-processing maps the image onto its input (YOLOX letterboxes, CenterNet stretches).</summary>
    public override DecodeNeed InputNeed(IObjectDetector model, Parameters parameters) => model.InputNeed;

    public override async Task<DetectionResult> RunAsync(IObjectDetector model, Parameters parameters, TaskInput input, CancellationToken cancellationToken) =>
        (await model.DetectAsync(input.Image, parameters.Detection, cancellationToken)).InOriginalPixels(input.Image);

    public override string? ModelOf(DetectionResult result) => result.Model;
}
