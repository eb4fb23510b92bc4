namespace Iris.Core.Embeddings;

/// <summary>The manifest's optional <c>clip</c> section; the rest comes from the model folder's Hugging Face files.</summary>
public sealed record ClipSpec
{
    /// <summary>Use <c>vision_model_quantized.onnx</c> / <c>text_model_quantized.onnx</c>.</summary>
    public bool Quantized { get; init; }

    public string? OnnxDirectory { get; init; }

    /// <summary>
    /// Multiplies cosine similarities before the softmax of zero-shot classification. The separate vision and text
    /// exports do not carry CLIP's learned logit_scale; 100 is the value trained CLIPs end at (it is clamped there).
    /// </summary>
    public float LogitScale { get; init; } = 100f;

    /// <summary>The zero-shot prompt, with <c>{}</c> where the label goes.</summary>
    public string PromptTemplate { get; init; } = "a photo of a {}";
}
