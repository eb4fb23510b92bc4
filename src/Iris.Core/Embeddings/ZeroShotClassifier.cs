using Iris.Core.Imaging;

namespace Iris.Core.Embeddings;

public sealed record ZeroShotLabel(string Label, float Score, float Similarity);

public sealed record ZeroShotResult(string Model, string PromptTemplate, IReadOnlyList<ZeroShotLabel> Labels, double EmbedMs);

/// <summary>
/// CLIP zero-shot classification: each label is put into a prompt ("a photo of a {}"), the prompts and the image are
/// embedded, and the softmax of logit_scale × cosine similarity ranks the labels.
/// </summary>
public static class ZeroShotClassifier
{
    public const int MaxLabels = 100;

    /// <summary>
    /// The longest label and prompt template, in characters: CLIP reads 77 tokens of the prompt at most, and a template of
    /// many <c>{}</c> times a long label would otherwise build strings of gigabytes.
    /// </summary>
    public const int MaxLabelLength = 100, MaxTemplateLength = 200;

    public static async Task<ZeroShotResult> ClassifyAsync(ClipModel model, DecodedImage image, IReadOnlyList<string> labels, string? promptTemplate = null,
        CancellationToken cancellationToken = default)
    {
        if (labels.Count == 0) throw new ArgumentException("Give at least one label.", nameof(labels));
        var template = promptTemplate ?? model.Spec.PromptTemplate;
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var imageEmbedding = (await model.EmbedImagesAsync([image], cancellationToken))[0].Vector;
        var textEmbeddings = await model.EmbedTextsAsync(labels.Select(l => Prompt(template, l)).ToList(), cancellationToken);
        var embedMs = stopwatch.Elapsed.TotalMilliseconds;
        var similarities = textEmbeddings.Select(t => Dot(imageEmbedding, t.Vector)).ToArray();
        var probabilities = Softmax(similarities.Select(s => s * model.Spec.LogitScale).ToArray());
        var ranked = labels.Select((l, i) => new ZeroShotLabel(l, probabilities[i], similarities[i]))
            .OrderByDescending(l => l.Score).ToList();
        return new ZeroShotResult(model.Manifest.Name, template, ranked, embedMs);
    }

    public static string Prompt(string template, string label) => template.Contains("{}") ? template.Replace("{}", label) : $"{template} {label}";

    private static float Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return (float)sum;
    }

    internal static float[] Softmax(float[] logits)
    {
        var max = logits.Max();
        var exps = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exps.Sum();
        return exps.Select(e => (float)(e / sum)).ToArray();
    }
}
