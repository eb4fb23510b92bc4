using System.Diagnostics;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Core.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Embeddings;

/// <summary>An L2-normalised embedding, and for text the token ids it came from.</summary>
public sealed record Embedding(float[] Vector, int[]? TokenIds = null);

/// <summary>
/// A CLIP model in the transformers.js layout: <c>vision_model.onnx</c> (pixel_values → image_embeds) and
/// <c>text_model.onnx</c> (input_ids, attention_mask → text_embeds), with the image processor and tokenizer from the
/// folder. Both towers project into one space, so image and text embeddings compare by cosine (a dot product here).
/// </summary>
public sealed class ClipModel : ILoadedModel
{
    private readonly InferenceSession? _vision;
    private readonly InferenceSession? _text;
    private readonly RunGate _runGate;
    private readonly int _padId;

    public ClipModel(ModelManifest manifest, ClipSpec spec, InferenceSession? vision, InferenceSession? text, HfImageProcessor? processor, BpeTokenizer? tokenizer,
        int maxTextLength, int padId, RunLimits runLimits = default)
    {
        Manifest = manifest;
        Spec = spec;
        _vision = vision;
        _text = text;
        Processor = processor;
        Tokenizer = tokenizer;
        MaxTextLength = maxTextLength;
        _padId = padId;
        _runGate = new RunGate(runLimits, manifest.Name, "embed");
        Dimensions = (int)((vision?.OutputMetadata.GetValueOrDefault("image_embeds")?.Dimensions.LastOrDefault()
            ?? text?.OutputMetadata.GetValueOrDefault("text_embeds")?.Dimensions.LastOrDefault()) ?? 0);
    }

    public ModelManifest Manifest { get; }
    public ClipSpec Spec { get; }
    public HfImageProcessor? Processor { get; }
    public BpeTokenizer? Tokenizer { get; }
    public int MaxTextLength { get; }
    public bool HasVision => _vision is not null;
    public bool HasText => _text is not null;

    /// <summary>The embedding size, from the graph (0 when the graph leaves it symbolic, until the first run).</summary>
    public int Dimensions { get; private set; }

    public async Task<IReadOnlyList<Embedding>> EmbedImagesAsync(IReadOnlyList<DecodedImage> images, CancellationToken cancellationToken = default)
    {
        if (_vision is null || Processor is null)
            throw new EmbeddingInputNotSupportedException(Manifest.Name, "images");
        var (width, height) = Processor.OutputSize(images[0]);
        var plane = width * height;
        var pixels = new float[images.Count * 3 * plane];
        for (var i = 0; i < images.Count; i++)
            Processor.Fill(images[i], pixels.AsSpan(i * 3 * plane, 3 * plane));
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [images.Count, 3, height, width]);
        var inputName = _vision.InputNames.Contains("pixel_values") ? "pixel_values" : _vision.InputNames[0];
        return await RunAsync(_vision, [inputName], [input], "image_embeds", images.Count, null, cancellationToken);
    }

    public async Task<IReadOnlyList<Embedding>> EmbedTextsAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        if (_text is null || Tokenizer is null)
            throw new EmbeddingInputNotSupportedException(Manifest.Name, "text");
        var ids = texts.Select(t => Tokenizer.Encode(t, addSpecialTokens: true, maxLength: MaxTextLength)).ToArray();
        // A batch is padded on the right with the pad token and masked; CLIP pools at the first eos, which padding never precedes.
        var length = ids.Max(i => i.Length);
        var inputIds = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        for (var b = 0; b < texts.Count; b++)
            for (var t = 0; t < length; t++)
            {
                inputIds[b * length + t] = t < ids[b].Length ? ids[b][t] : _padId;
                mask[b * length + t] = t < ids[b].Length ? 1 : 0;
            }
        using var idsValue = OrtValue.CreateTensorValueFromMemory(inputIds, [texts.Count, length]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [texts.Count, length]);
        var names = new List<string>();
        var values = new List<OrtValue>();
        foreach (var name in _text.InputNames)
        {
            names.Add(name);
            values.Add(name switch
            {
                "input_ids" => idsValue,
                "attention_mask" => maskValue,
                _ => throw new InvalidModelManifestException(Manifest.Name, $"the text model has an input '{name}' that Iris does not know how to feed"),
            });
        }
        return await RunAsync(_text, names, values, "text_embeds", texts.Count, ids, cancellationToken);
    }

    private async Task<IReadOnlyList<Embedding>> RunAsync(InferenceSession session, IReadOnlyList<string> names, IReadOnlyList<OrtValue> values, string output,
        int count, int[][]? ids, CancellationToken cancellationToken)
    {
        if (!session.OutputNames.Contains(output))
            throw new InvalidModelManifestException(Manifest.Name, $"the ONNX file has no '{output}' output (it has {string.Join(", ", session.OutputNames)})");
        using (await _runGate.EnterAsync(cancellationToken))
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, [output]);
            var data = outputs[0].GetTensorDataAsSpan<float>();
            var dimensions = data.Length / count;
            Dimensions = dimensions;
            var result = new List<Embedding>(count);
            for (var i = 0; i < count; i++)
                result.Add(new Embedding(Normalize(data.Slice(i * dimensions, dimensions)), ids?[i]));
            return result;
        }
    }

    public static float[] Normalize(ReadOnlySpan<float> vector)
    {
        double sum = 0;
        foreach (var v in vector) sum += (double)v * v;
        var norm = Math.Sqrt(sum);
        var result = new float[vector.Length];
        for (var i = 0; i < vector.Length; i++) result[i] = norm > 0 ? (float)(vector[i] / norm) : 0f;
        return result;
    }

    public void Dispose()
    {
        _vision?.Dispose();
        _text?.Dispose();
        _runGate.Dispose();
    }
}

/// <summary>The embedding model has no tower for this kind of input (e.g. a vision-only export asked to embed text).</summary>
public sealed class EmbeddingInputNotSupportedException(string model, string input)
    : Exception($"Model '{model}' cannot embed {input}: its folder has no {(input == "text" ? "text_model.onnx" : "vision_model.onnx")}.");
