using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Embeddings;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>
/// Zero-shot classification with a CLIP (<c>embed</c>) model. <see cref="HandleAsync"/> is the whole handler, so a
/// <c>/v1/classify</c> route that also serves ordinary classifiers can dispatch to it when the model's task is <c>embed</c>.
/// </summary>
public static class ZeroShotClassifyApi
{
    public static IEndpointRouteBuilder MapZeroShotClassifyApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/classify", ClassifyAsync)
            .WithName("ZeroShotClassify")
            .WithTags("Understand")
            .WithSummary("Classify an image against labels you choose (zero-shot, CLIP)")
            .WithDescription(
                "Ranks the `labels` (comma-separated, required) by how well the prompt made from each (`prompt_template`, default " +
                "\"a photo of a {}\") matches the image in a CLIP model's joint space; `score` is the softmax of logit_scale × cosine, " +
                "`similarity` the cosine. Parameters: `model` (default Embeddings:Model), `labels`, `prompt_template`. " +
                "The image is sent as for /v1/detect.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<Ok<ZeroShotClassifyResponse>> ClassifyAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, ModelRuntime models, CancellationToken cancellationToken)
    {
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        return TypedResults.Ok(await HandleAsync(request, upload, upload.Parameter(request, "model") ?? options.Embeddings.Model, decoder, models, cancellationToken));
    }

    /// <summary>Zero-shot classification of an already read upload with the embed model <paramref name="modelName"/>.</summary>
    public static async Task<ZeroShotClassifyResponse> HandleAsync(HttpRequest request, ImageUpload upload, string modelName,
        ImageDecoder decoder, ModelRuntime models, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var labels = (upload.Parameter(request, "labels") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).ToList();
        if (labels.Count == 0)
            throw new InvalidRequestException("Zero-shot classification needs 'labels', a comma-separated list such as labels=cat,dog,flower.", "labels");
        if (labels.Count > ZeroShotClassifier.MaxLabels)
            throw new InvalidRequestException($"At most {ZeroShotClassifier.MaxLabels} labels are accepted; got {labels.Count}.", "labels");
        var template = upload.Parameter(request, "prompt_template");
        if (template is not null && !template.Contains("{}"))
            throw new InvalidRequestException($"prompt_template must contain {{}} where the label goes, e.g. \"a photo of a {{}}\"; got '{template}'.", "prompt_template");

        var model = await models.GetAsync<ClipModel>(modelName, "embed", cancellationToken);
        var decodeClock = Stopwatch.StartNew();
        var image = decoder.Decode(upload.Bytes, cancellationToken);
        var decodeMs = decodeClock.Elapsed.TotalMilliseconds;
        var result = await ZeroShotClassifier.ClassifyAsync(model, image, labels, template, cancellationToken);
        return new ZeroShotClassifyResponse(result.Model, result.PromptTemplate,
            result.Labels.Select(l => new ZeroShotLabelDto(l.Label, MathF.Round(l.Score, 5), MathF.Round(l.Similarity, 5))).ToList(),
            new ZeroShotTimingsDto(Math.Round(decodeMs, 2), Math.Round(result.EmbedMs, 2), Math.Round(total.Elapsed.TotalMilliseconds, 2)));
    }
}
