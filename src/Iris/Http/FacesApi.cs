using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Faces;
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
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<FacesResponse>> DetectFacesAsync(
        HttpRequest request, FacesTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var run = await pipeline.RunAsync(task, task.Read(upload.Parameters(request)), upload.Bytes, cancellationToken);
        return TypedResults.Ok(FacesResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }
}
