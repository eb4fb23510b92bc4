using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Detection;
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
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<DetectionResponse>> DetectAsync(
        HttpRequest request, DetectTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var run = await pipeline.RunAsync(task, task.Read(upload.Parameters(request)), upload.Bytes, cancellationToken);
        return TypedResults.Ok(DetectionResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }
}
