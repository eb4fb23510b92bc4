using System.Text.Json;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Inference.Batching;
using Iris.Core.Models;
using Iris.Core.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Embeddings;

/// <summary>Loads <c>embed</c> models: a CLIP export with a vision tower, a text tower, or both.</summary>
public sealed class ClipModelLoader(OnnxSessionFactory sessions, BatchingSettings? batching = null) : IModelLoader
{
    public string Task => "embed";

    public async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var model = Load(manifest, files.Directory, sessions, batching);
        try
        {
            if (model.HasVision)
            {
                var (w, h) = model.Processor!.OutputSize(new DecodedImage(64, 64, new byte[64 * 64 * 3], ImageFormat.Png, 1, 0));
                await model.EmbedImagesAsync([new DecodedImage(w, h, new byte[w * h * 3], ImageFormat.Png, 1, 0)], cancellationToken);
            }
            if (model.HasText) await model.EmbedTextsAsync(["a photo"], cancellationToken);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static ClipModel Load(ModelManifest manifest, string directory, OnnxSessionFactory sessions, BatchingSettings? batching = null)
    {
        var spec = manifest.Sections?.ContainsKey("clip") == true ? manifest.Section<ClipSpec>("clip") : new ClipSpec();
        var folder = new HfModelFolder(manifest, directory);
        var visionPath = folder.FindOnnx("vision_model", spec.Quantized, spec.OnnxDirectory);
        var textPath = folder.FindOnnx("text_model", spec.Quantized, spec.OnnxDirectory);
        if (visionPath is null && textPath is null)
            throw new InvalidModelManifestException(manifest.Name,
                $"it has neither vision_model{(spec.Quantized ? "_quantized" : "")}.onnx nor text_model{(spec.Quantized ? "_quantized" : "")}.onnx under onnx/ or the folder root");

        var processor = visionPath is not null ? HfImageProcessor.FromFile(folder.Require("preprocessor_config.json")) : null;
        BpeTokenizer? tokenizer = null;
        int maxLength = 77, padId = 0;
        if (textPath is not null)
        {
            folder.Require("tokenizer.json");
            tokenizer = BpeTokenizer.FromDirectory(directory);
            // Truncation length: tokenizer_config's model_max_length, else the text tower's position count.
            maxLength = tokenizer.ModelMaxLength ?? TextPositions(folder) ?? 77;
            padId = PadId(folder, tokenizer);
        }
        InferenceSession? vision = null, text = null;
        try
        {
            if (visionPath is not null) vision = sessions.Create(folder.Require(visionPath));
            if (textPath is not null) text = sessions.Create(folder.Require(textPath));
            var model = new ClipModel(manifest, spec, vision, text, processor, tokenizer, maxLength, padId, sessions.Settings.RunLimits);
            if (batching is not null && visionPath is not null) model.EnableImageBatching(folder.Require(visionPath), sessions, batching.For(manifest.Name));
            return model;
        }
        catch
        {
            vision?.Dispose();
            text?.Dispose();
            throw;
        }
    }

    private static int? TextPositions(HfModelFolder folder)
    {
        if (!folder.Has("config.json")) return null;
        using var config = folder.ReadJson("config.json");
        return config.RootElement.TryGetProperty("text_config", out var t) && t.TryGetProperty("max_position_embeddings", out var m) ? m.GetInt32() : null;
    }

    private static int PadId(HfModelFolder folder, BpeTokenizer tokenizer)
    {
        if (folder.Has("tokenizer_config.json"))
        {
            using var config = folder.ReadJson("tokenizer_config.json");
            if (config.RootElement.TryGetProperty("pad_token", out var pad) && pad.ValueKind == JsonValueKind.String
                && tokenizer.TokenToId(pad.GetString()!) is { } id)
                return id;
        }
        return tokenizer.TokenToId("<|endoftext|>") ?? 0;
    }
}
