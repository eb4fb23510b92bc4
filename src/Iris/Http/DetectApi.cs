using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Iris.Http;

public static class DetectApi
{
    public static IEndpointRouteBuilder MapDetectApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/detect", DetectAsync)
            .WithName("Detect")
            .WithTags("Understand")
            .WithSummary("Detect objects in an image")
            .WithDescription(
                "Send the image as multipart/form-data (field `image` or `file`), as a raw body with an image/* or " +
                "application/octet-stream type, or as JSON `{\"image\": \"<base64>\"}`. Parameters (query string or form fields): " +
                "`model` (default Detection:Model), `min_confidence` 0–1 (default 0.4), `max_detections` 1–1000 (default 100). " +
                "Boxes are in pixels of the image as displayed (after EXIF orientation).")
            // Not .Accepts(): its content-type metadata makes routing answer 415 with no detail before our own checks run.
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(QueryParameters.Describe(
                new("model", JsonSchemaType.String, "Detection model (default Detection:Model, yolox-nano)."),
                new("min_confidence", JsonSchemaType.Number, "Drop objects below this confidence, 0–1 (default 0.4)."),
                new("max_detections", JsonSchemaType.Integer, "Keep at most this many objects, 1–1000 (default 100).")))
            .ProducesImageProblems();
        return app;
    }

    private static async Task<Ok<DetectionResponse>> DetectAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, ModelRuntime models, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var parameters = new DetectionParameters(
            RequestParameters.Float(upload.Parameter(request, "min_confidence"), "min_confidence", options.Detection.MinConfidence, 0f, 1f),
            RequestParameters.Int(upload.Parameter(request, "max_detections"), "max_detections", options.Detection.MaxDetections, 1, 1000));
        var modelName = upload.Parameter(request, "model") ?? options.Detection.Model;

        // Resolve the model first: a request for a model that is not ready should not pay for a decode.
        var detector = await models.GetDetectorAsync(modelName, cancellationToken);
        var decodeClock = Stopwatch.StartNew();
        var image = decoder.Decode(upload.Bytes, cancellationToken);
        var decodeMs = decodeClock.Elapsed.TotalMilliseconds;
        var result = await detector.DetectAsync(image, parameters, cancellationToken);
        return TypedResults.Ok(DetectionResponse.From(result, decodeMs, total.Elapsed.TotalMilliseconds));
    }
}
