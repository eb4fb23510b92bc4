using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Jobs;
using Iris.Core.Models;
using Iris.Http;

namespace Iris.Jobs;

/// <summary>
/// Runs <c>detect</c> jobs: the result document is <c>{"detect": &lt;the POST /v1/detect document&gt;}</c>, the shape an
/// analysis with one task has. Replaced by the analysis runner once /v1/analyze serves several tasks.
/// </summary>
public sealed class DetectJobProcessor(IrisOptions options, ImageDecoder decoder, ModelRuntime models) : IJobProcessor
{
    private static readonly JsonSerializerOptions Json = new(DetectionResponse.Json) { WriteIndented = false };

    public IReadOnlyCollection<string> Tasks { get; } = ["detect"];

    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters)
    {
        var (model, _) = Parse(parameters);
        var manifest = models.Catalog.Get(model);
        if (!string.Equals(manifest.Task, "detect", StringComparison.OrdinalIgnoreCase))
            throw new ModelTaskMismatchException(manifest.Name, manifest.Task, "detect");
    }

    public async Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken)
    {
        DetectionParameters parameters;
        string model;
        try
        {
            (model, parameters) = Parse(input.Parameters);
        }
        catch (InvalidRequestException e)
        {
            throw new PermanentJobFailureException(e.Message, e);
        }
        var total = Stopwatch.StartNew();
        var detector = await models.GetDetectorAsync(model, cancellationToken);
        var decodeClock = Stopwatch.StartNew();
        var image = decoder.Decode(input.Image, cancellationToken);
        var decodeMs = decodeClock.Elapsed.TotalMilliseconds;
        var result = await detector.DetectAsync(image, parameters, cancellationToken);
        var document = new JsonObject
        {
            ["detect"] = JsonSerializer.SerializeToNode(DetectionResponse.From(result, decodeMs, total.Elapsed.TotalMilliseconds), Json),
        };
        var manifest = models.Catalog.Get(model);
        return new JobOutput(document.ToJsonString(), [new ModelVersion(manifest.Name, manifest.Version)]);
    }

    private (string Model, DetectionParameters Parameters) Parse(IReadOnlyDictionary<string, string> parameters)
    {
        string? Get(string name) => parameters.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
        return (Get("model") ?? options.Detection.Model, new DetectionParameters(
            RequestParameters.Float(Get("min_confidence"), "min_confidence", options.Detection.MinConfidence, 0f, 1f),
            RequestParameters.Int(Get("max_detections"), "max_detections", options.Detection.MaxDetections, 1, 1000)));
    }
}
