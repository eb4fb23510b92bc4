using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Classification;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

public static class ClassifyApi
{
    public static IEndpointRouteBuilder MapClassifyApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/classify", ClassifyAsync)
            .WithName("Classify")
            .WithTags("Understand")
            .WithSummary("Classify an image with an image classifier")
            .WithDescription(
                "Runs any `classify` model of the catalog, including your own (a model folder with a manifest.json in the model cache). " +
                "Send the image as for /v1/detect. Parameters (query string or form fields): `model` (default Classification:Model), " +
                "`top_k` 1–1000 (default 5), `min_confidence` 0–1 (default 0). Predictions are ordered by confidence, highest first.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<Ok<ClassificationResponse>> ClassifyAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, ModelRuntime models, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var parameters = new ClassificationParameters(
            RequestParameters.Int(upload.Parameter(request, "top_k"), "top_k", options.Classification.TopK, 1, 1000),
            RequestParameters.Float(upload.Parameter(request, "min_confidence"), "min_confidence", options.Classification.MinConfidence, 0f, 1f));
        var modelName = upload.Parameter(request, "model") ?? options.Classification.Model;

        var classifier = await models.GetClassifierAsync(modelName, cancellationToken);
        var decodeClock = Stopwatch.StartNew();
        var image = decoder.Decode(upload.Bytes, cancellationToken);
        var decodeMs = decodeClock.Elapsed.TotalMilliseconds;
        var result = await classifier.ClassifyAsync(image, parameters, cancellationToken);
        return TypedResults.Ok(ClassificationResponse.From(result, decodeMs, total.Elapsed.TotalMilliseconds));
    }
}
