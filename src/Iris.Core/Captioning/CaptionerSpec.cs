namespace Iris.Core.Captioning;

/// <summary>
/// The manifest's optional <c>captioner</c> section. Everything else (sizes, token ids, generation defaults,
/// preprocessing, tokenizer) comes from the model folder's own Hugging Face files, so an exported folder runs as it is.
/// </summary>
public sealed record CaptionerSpec
{
    /// <summary>Use the <c>*_quantized.onnx</c> files (int8 dynamic quantisation).</summary>
    public bool Quantized { get; init; }

    /// <summary>
    /// Split the decoder so that its work on the encoder output alone (each layer's cross-attention keys and values)
    /// runs once per image instead of at every generated token. Same output, several times fewer operations per step;
    /// false runs the graph as exported.
    /// </summary>
    public bool HoistEncoderWork { get; init; } = true;

    /// <summary>Folder of the ONNX files inside the model folder; found automatically (<c>onnx/</c> or the root) when null.</summary>
    public string? OnnxDirectory { get; init; }

    /// <summary>Explicit file names, overriding the automatic choice.</summary>
    public string? Encoder { get; init; }
    public string? Decoder { get; init; }
    public string? DecoderWithPast { get; init; }
}
