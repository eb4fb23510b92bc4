using System.Text.Json;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Core.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Captioning;

/// <summary>Loads <c>describe</c> models: a Hugging Face vision encoder-decoder export, read from its own config files.</summary>
public sealed class ImageCaptionerLoader(OnnxSessionFactory sessions) : IModelLoader
{
    public string Task => "describe";

    public async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        var captioner = Load(manifest, files.Directory, sessions);
        try
        {
            // One short generation, so the first request does not pay for ONNX Runtime's first-run set-up.
            var (w, h) = captioner.Processor.OutputSize(new DecodedImage(64, 64, new byte[64 * 64 * 3], ImageFormat.Png, 1, 0));
            var blank = new DecodedImage(Math.Max(w, 1), Math.Max(h, 1), new byte[Math.Max(w, 1) * Math.Max(h, 1) * 3], ImageFormat.Png, 1, 0);
            await captioner.DescribeAsync(blank, new GenerationOverrides { MaxNewTokens = 2, NumBeams = 1 }, cancellationToken);
            return captioner;
        }
        catch
        {
            captioner.Dispose();
            throw;
        }
    }

    public static ImageCaptioner Load(ModelManifest manifest, string directory, OnnxSessionFactory sessions)
    {
        var spec = manifest.Sections?.ContainsKey("captioner") == true ? manifest.Section<CaptionerSpec>("captioner") : new CaptionerSpec();
        var folder = new HfModelFolder(manifest, directory);
        string Onnx(string? explicitName, string stem) =>
            explicitName ?? folder.FindOnnx(stem, spec.Quantized, spec.OnnxDirectory)
            ?? throw new InvalidModelManifestException(manifest.Name,
                $"it has no {stem}{(spec.Quantized ? "_quantized" : "")}.onnx under onnx/ or the folder root");

        var encoderPath = Onnx(spec.Encoder, "encoder_model");
        string? mergedPath = spec.Decoder is null && spec.DecoderWithPast is null
            ? folder.FindOnnx("decoder_model_merged", spec.Quantized, spec.OnnxDirectory) : null;
        string? firstPath = null, withPastPath = null;
        if (mergedPath is null)
        {
            firstPath = Onnx(spec.Decoder, "decoder_model");
            withPastPath = spec.DecoderWithPast ?? folder.FindOnnx("decoder_with_past_model", spec.Quantized, spec.OnnxDirectory)
                ?? throw new InvalidModelManifestException(manifest.Name,
                    "it has neither decoder_model_merged.onnx nor decoder_with_past_model.onnx; Iris needs a decoder with a key/value cache");
        }

        var processor = HfImageProcessor.FromFile(folder.Require("preprocessor_config.json"));
        var tokenizer = BpeTokenizer.FromDirectory(directory);
        folder.Require("tokenizer.json");
        var generation = GenerationSettings.FromFiles(folder.Require("config.json"),
            folder.Has("generation_config.json") ? folder.Path("generation_config.json") : null);
        using var config = folder.ReadJson("config.json");
        var decoderConfig = config.RootElement.TryGetProperty("decoder", out var d) ? d : config.RootElement;

        var encoder = sessions.Create(folder.Require(encoderPath));
        DecoderSessions? decoder = null;
        DecoderGraph? first = null;
        try
        {
            using var probe = spec.HoistEncoderWork ? ProbeEncoderStates(encoder, processor) : null;
            if (mergedPath is not null)
                decoder = DecoderSessions.Merged(manifest.Name, DecoderGraph.Load(folder.Require(mergedPath), sessions, spec.HoistEncoderWork, probe));
            else
            {
                first = DecoderGraph.Load(folder.Require(firstPath!), sessions, spec.HoistEncoderWork, probe);
                decoder = DecoderSessions.Split(manifest.Name, first, DecoderGraph.Load(folder.Require(withPastPath!), sessions, spec.HoistEncoderWork, probe));
                first = null;
            }

            // Cache shape [batch, heads, length, head size]: from the graph when fixed there, else from config.json.
            var pastDims = decoder.WithPast.Step.InputMetadata[decoder.PastNames[0]].Dimensions;
            var heads = pastDims.Length == 4 && pastDims[1] > 0 ? pastDims[1] : ConfigInt(decoderConfig, "n_head", "num_attention_heads", "decoder_attention_heads")
                ?? throw new InvalidModelManifestException(manifest.Name, "neither the decoder graph nor config.json gives the number of attention heads");
            var headSize = pastDims.Length == 4 && pastDims[3] > 0 ? pastDims[3]
                : (ConfigInt(decoderConfig, "n_embd", "hidden_size", "d_model") ?? throw new InvalidModelManifestException(manifest.Name, "config.json gives no decoder hidden size")) / heads;
            var logitsDims = decoder.WithPast.Step.OutputMetadata["logits"].Dimensions;
            var vocabulary = logitsDims.Length == 3 && logitsDims[2] > 0 ? logitsDims[2]
                : ConfigInt(decoderConfig, "vocab_size") ?? throw new InvalidModelManifestException(manifest.Name, "config.json gives no vocab_size");
            return new ImageCaptioner(manifest, encoder, decoder, processor, tokenizer, generation, vocabulary, heads, headSize, spec.Quantized, sessions.Settings.MaxConcurrentRuns);
        }
        catch
        {
            encoder.Dispose();
            first?.Dispose();
            decoder?.Dispose();
            throw;
        }
    }

    /// <summary>The encoder's output for three blank images, for <see cref="DecoderGraph.Load"/>'s one-row-per-image check.</summary>
    private static OrtValue ProbeEncoderStates(InferenceSession encoder, HfImageProcessor processor)
    {
        const int images = 3;
        var (width, height) = processor.OutputSize(new DecodedImage(64, 64, new byte[64 * 64 * 3], ImageFormat.Png, 1, 0));
        var pixels = new float[images * 3 * width * height];
        var input = encoder.InputNames.Contains("pixel_values") ? "pixel_values" : encoder.InputNames[0];
        var output = encoder.OutputNames.Contains("last_hidden_state") ? "last_hidden_state" : encoder.OutputNames[0];
        using var tensor = OrtValue.CreateTensorValueFromMemory(pixels, [images, 3, height, width]);
        using var runOptions = new RunOptions();
        using var outputs = encoder.Run(runOptions, [input], [tensor], [output]);
        return OrtValue.CreateTensorValueFromMemory(outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }

    private static int? ConfigInt(JsonElement config, params string[] names)
    {
        foreach (var name in names)
            if (config.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number)
                return v.GetInt32();
        return null;
    }
}
