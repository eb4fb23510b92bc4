using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Embeddings;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>
/// Zero-shot classification with a CLIP (<c>embed</c>) model; <c>POST /v1/classify</c> (<see cref="ClassifyApi"/>) dispatches
/// here when the model's task is <c>embed</c>.
/// </summary>
public static class ZeroShotClassifyApi
{
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
