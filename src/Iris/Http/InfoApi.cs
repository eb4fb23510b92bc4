using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Inspection;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

public static class InfoApi
{
    public static IEndpointRouteBuilder MapInfoApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/info", InfoAsync)
            .WithName("Info")
            .WithTags("Understand")
            .WithSummary("Describe an image without a model: format, size, EXIF, colours, sharpness, perceptual hash")
            .WithDescription(
                "Send the image as for /v1/detect. Returns the format, displayed width and height, file size, bit depth, alpha, " +
                "animation frames, EXIF (camera, lens, capture time, orientation), dominant colours with their share of pixels, " +
                "brightness, contrast, colourfulness, sharpness (variance of the Laplacian) with a blur verdict, and a 64-bit dHash " +
                "for finding duplicates. GPS coordinates are returned only with `include_gps=true`; `gps_present` always says " +
                "whether the file carries them.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<Ok<InfoResponse>> InfoAsync(
        HttpRequest request, ImageDecoder decoder, ImageInspector inspector, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var parameters = new InspectionParameters(RequestParameters.Bool(upload.Parameter(request, "include_gps"), "include_gps", false));
        var headerClock = Stopwatch.StartNew();
        var header = inspector.ReadHeader(upload.Bytes);
        var headerMs = headerClock.Elapsed.TotalMilliseconds;
        var decodeClock = Stopwatch.StartNew();
        var image = decoder.Decode(upload.Bytes, cancellationToken);
        var decodeMs = decodeClock.Elapsed.TotalMilliseconds;
        var info = inspector.Inspect(header, image, parameters, headerMs);
        return TypedResults.Ok(InfoResponse.From(info, decodeMs, total.Elapsed.TotalMilliseconds));
    }
}
