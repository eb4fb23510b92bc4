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
                "`top_k` 1–1000 (default 5), `min_confidence` 0–1 (default 0). Predictions are ordered by confidence, highest first. " +
                "Zero-shot: when `model` is a CLIP (`embed`) model, or `labels` is sent without a model (Embeddings:Model is used), the image is " +
                "ranked against the comma-separated `labels` through `prompt_template` (default \"a photo of a {}\"); the answer then lists " +
                "`labels` with `score` (softmax of logit_scale × cosine) and `similarity` (the cosine).")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            // Both answers are 200 JSON; the ordinary classifier's is the one documented as the schema, the zero-shot one in the description.
            .Produces<ClassificationResponse>(StatusCodes.Status200OK)
            .ProducesImageProblems();
        return app;
    }

    private static async Task<Results<Ok<ClassificationResponse>, Ok<ZeroShotClassifyResponse>>> ClassifyAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, ModelRuntime models, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var requestedModel = upload.Parameter(request, "model");
        // One route for both kinds of classifier: the model's task decides, as a client would expect from "classify".
        var zeroShotModel = requestedModel is null
            ? upload.Parameter(request, "labels") is not null ? options.Embeddings.Model : null
            : models.Catalog.Contains(requestedModel) && models.Catalog.Get(requestedModel).Task == "embed" ? requestedModel : null;
        if (zeroShotModel is not null)
            return TypedResults.Ok(await ZeroShotClassifyApi.HandleAsync(request, upload, zeroShotModel, decoder, models, cancellationToken));

        var parameters = new ClassificationParameters(
            RequestParameters.Int(upload.Parameter(request, "top_k"), "top_k", options.Classification.TopK, 1, 1000),
            RequestParameters.Float(upload.Parameter(request, "min_confidence"), "min_confidence", options.Classification.MinConfidence, 0f, 1f));
        var modelName = requestedModel ?? options.Classification.Model;

        var classifier = await models.GetClassifierAsync(modelName, cancellationToken);
        var decodeClock = Stopwatch.StartNew();
        var image = decoder.Decode(upload.Bytes, cancellationToken);
        var decodeMs = decodeClock.Elapsed.TotalMilliseconds;
        var result = await classifier.ClassifyAsync(image, parameters, cancellationToken);
        return TypedResults.Ok(ClassificationResponse.From(result, decodeMs, total.Elapsed.TotalMilliseconds));
    }
}
