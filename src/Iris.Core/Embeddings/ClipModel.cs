using System.Buffers;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Inference.Batching;
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
    private InferenceSession? _visionBatch;
    private DynamicBatcher<float[], float[]>? _imageBatcher;
    private (int Width, int Height) _imageSize;

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

    /// <summary>Whether the image tower batches concurrent requests, or why not.</summary>
    public string? LoadNote { get; private set; }

    private string VisionInput => _vision!.InputNames.Contains("pixel_values") ? "pixel_values" : _vision.InputNames[0];

    /// <summary>
    /// Batches the image tower's runs of concurrent requests (<see cref="BatchingPolicy"/>), checked on probe images
    /// first (<see cref="BatchSession"/>). Needs a processor whose output size does not depend on the image (CLIP's center crop).
    /// </summary>
    public void EnableImageBatching(string visionPath, OnnxSessionFactory sessions, BatchingPolicy policy, TimeProvider? time = null)
    {
        if (_vision is null || Processor is null) return;
        if (!policy.Enabled)
        {
            LoadNote = "image batching off (MaxBatch 1)";
            return;
        }
        var size = Processor.OutputSize(new DecodedImage(640, 480, new byte[640 * 480 * 3], ImageFormat.Png, 1, 0));
        if (Processor.OutputSize(new DecodedImage(300, 500, new byte[300 * 500 * 3], ImageFormat.Png, 1, 0)) != size)
        {
            LoadNote = "image batching off: the processor's output size depends on the image";
            return;
        }
        var probes = ProbeImages.Create(size.Width, size.Height).Select(image =>
        {
            var tensor = new float[3 * size.Width * size.Height];
            Processor.Fill(image, tensor);
            return tensor;
        }).ToArray();
        var loaded = BatchSession.Load(visionPath, _vision, sessions.Create, VisionInput, [3, size.Height, size.Width], ["image_embeds"], probes);
        LoadNote = "image " + loaded.Note;
        if (loaded.Session is null) return;
        _visionBatch = loaded.Session;
        _imageSize = size;
        _imageBatcher = new DynamicBatcher<float[], float[]>(Manifest.Name, policy, RunImageBatchAsync, sessions.Settings.RunLimits, time);
    }

    private async Task<IReadOnlyList<float[]>> RunImageBatchAsync(IReadOnlyList<float[]> inputs, CancellationToken cancellationToken)
    {
        var size = 3 * _imageSize.Width * _imageSize.Height;
        var batch = inputs.Count == 1 ? inputs[0] : ArrayPool<float>.Shared.Rent(inputs.Count * size);
        try
        {
            if (inputs.Count > 1)
                for (var i = 0; i < inputs.Count; i++) inputs[i].AsSpan(0, size).CopyTo(batch.AsSpan(i * size, size));
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.AsMemory(0, inputs.Count * size),
                [inputs.Count, 3, _imageSize.Height, _imageSize.Width]);
            var session = inputs.Count == 1 ? _vision! : _visionBatch!;
            var embeddings = await RunAsync(session, [VisionInput], [input], "image_embeds", inputs.Count, null, cancellationToken);
            return embeddings.Select(e => e.Vector).ToArray();
        }
        finally
        {
            if (inputs.Count > 1) ArrayPool<float>.Shared.Return(batch);
            foreach (var buffer in inputs) ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>The embedding size, from the graph (0 when the graph leaves it symbolic, until the first run).</summary>
    public int Dimensions { get; private set; }

    public async Task<IReadOnlyList<Embedding>> EmbedImagesAsync(IReadOnlyList<DecodedImage> images, CancellationToken cancellationToken = default)
    {
        if (_vision is null || Processor is null)
            throw new EmbeddingInputNotSupportedException(Manifest.Name, "images");
        var (width, height) = Processor.OutputSize(images[0]);
        var plane = width * height;
        if (_imageBatcher is not null)
        {
            // One request per image, so that images of concurrent requests share runs; each pooled buffer belongs to its batch.
            var vectors = await Task.WhenAll(images.Select(image =>
            {
                var buffer = ArrayPool<float>.Shared.Rent(3 * plane);
                Processor.Fill(image, buffer.AsSpan(0, 3 * plane));
                return _imageBatcher.RunAsync(buffer, cancellationToken);
            }));
            return vectors.Select(v => new Embedding(v)).ToList();
        }
        var pixels = new float[images.Count * 3 * plane];
        for (var i = 0; i < images.Count; i++)
            Processor.Fill(images[i], pixels.AsSpan(i * 3 * plane, 3 * plane));
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [images.Count, 3, height, width]);
        return await RunAsync(_vision, [VisionInput], [input], "image_embeds", images.Count, null, cancellationToken);
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
        _imageBatcher?.Dispose();
        if (_visionBatch is not null && !ReferenceEquals(_visionBatch, _vision)) _visionBatch.Dispose();
        _vision?.Dispose();
        _text?.Dispose();
        _runGate.Dispose();
    }
}

/// <summary>The embedding model has no tower for this kind of input (e.g. a vision-only export asked to embed text).</summary>
public sealed class EmbeddingInputNotSupportedException(string model, string input)
    : Exception($"Model '{model}' cannot embed {input}: its folder has no {(input == "text" ? "text_model.onnx" : "vision_model.onnx")}.");
