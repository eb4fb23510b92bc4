using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Faces;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

public static class FacesApi
{
    public static IEndpointRouteBuilder MapFacesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/faces", DetectFacesAsync)
            .WithName("Faces")
            .WithTags("Understand")
            .WithSummary("Find faces in an image")
            .WithDescription(
                "Send the image as for /v1/detect. Parameters (query string or form fields): `model` (default Faces:Model, " +
                "`ultraface-rfb-320`; `ultraface-rfb-640` finds smaller faces), `min_confidence` 0–1 (default 0.7), " +
                "`max_faces` 1–1000 (default 100). Boxes are in pixels of the image as displayed (after EXIF orientation).")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .ProducesImageProblems();
        return app;
    }

    private static async Task<Ok<FacesResponse>> DetectFacesAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, ModelRuntime models, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var parameters = new FaceDetectionParameters(
            RequestParameters.Float(upload.Parameter(request, "min_confidence"), "min_confidence", options.Faces.MinConfidence, 0f, 1f),
            RequestParameters.Int(upload.Parameter(request, "max_faces"), "max_faces", options.Faces.MaxFaces, 1, 1000));
        var modelName = upload.Parameter(request, "model") ?? options.Faces.Model;

        var detector = await models.GetFaceDetectorAsync(modelName, cancellationToken);
        var decodeClock = Stopwatch.StartNew();
        var image = decoder.Decode(upload.Bytes, cancellationToken);
        var decodeMs = decodeClock.Elapsed.TotalMilliseconds;
        var result = await detector.DetectAsync(image, parameters, cancellationToken);
        return TypedResults.Ok(FacesResponse.From(result, decodeMs, total.Elapsed.TotalMilliseconds));
    }
}
