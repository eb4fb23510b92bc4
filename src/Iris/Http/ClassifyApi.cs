using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Models;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Classification;
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
            .AsImageRoute();
        return app;
    }

    private static async Task<Results<Ok<ClassificationResponse>, Ok<ZeroShotClassifyResponse>>> ClassifyAsync(
        HttpRequest request, ClassifyTask classify, ZeroShotClassifyTask zeroShot, ImageAnalyzer pipeline, ImageDecoder decoder, ModelCatalog catalog,
        CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var parameters = upload.Parameters(request);
        // One route for both kinds of classifier: the model's task decides, as a client would expect from "classify".
        var requestedModel = parameters.String("model");
        var isZeroShot = requestedModel is null
            ? parameters.String("labels") is not null
            : catalog.Contains(requestedModel) && catalog.Get(requestedModel).Task == "embed";
        if (isZeroShot)
        {
            var zeroShotRun = await pipeline.RunAsync(zeroShot, zeroShot.Read(parameters), upload.Bytes, cancellationToken);
            return TypedResults.Ok(ZeroShotClassifyResponse.From(zeroShotRun.Result, zeroShotRun.DecodeMs, total.Elapsed.TotalMilliseconds));
        }
        var run = await pipeline.RunAsync(classify, classify.Read(parameters), upload.Bytes, cancellationToken);
        return TypedResults.Ok(ClassificationResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }
}
