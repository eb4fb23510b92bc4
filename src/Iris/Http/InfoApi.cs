using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Sources;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Inspection;
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
        app.MapGet("/v1/info", InfoFromUrlAsync)
            .WithName("InfoFromUrl")
            .WithTags("Understand")
            .WithSummary("Describe an image fetched from a URL, without a model")
            .WithDescription(
                "`url` (required): an http(s) URL, fetched under the Sources options (allowed hosts, no private addresses unless " +
                "Sources:AllowPrivateNetworks, Images:MaxBytes, Sources:TimeoutMs). Answers the same document as POST /v1/info; " +
                "`include_gps` as there.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        return app;
    }

    private static async Task<Ok<InfoResponse>> InfoFromUrlAsync(
        HttpRequest request, InfoTask task, ImageAnalyzer pipeline, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var raw = request.Query["url"].ToString();
        if (raw.Length == 0)
            throw new InvalidParameterException("url is required: GET /v1/info?url=https://example.com/photo.jpg (or POST the image itself).", "url");
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new InvalidParameterException($"url must be an absolute http(s) URL; got '{raw}'.", "url");
        var parameters = task.Read(QueryParameters.Reader(request));
        var bytes = await fetcher.FetchAsync(url, cancellationToken);
        var run = await pipeline.RunAsync(task, parameters, bytes, cancellationToken);
        return TypedResults.Ok(InfoResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }

    private static async Task<Ok<InfoResponse>> InfoAsync(
        HttpRequest request, InfoTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var run = await pipeline.RunAsync(task, task.Read(upload.Parameters(request)), upload.Bytes, cancellationToken);
        return TypedResults.Ok(InfoResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }
}
