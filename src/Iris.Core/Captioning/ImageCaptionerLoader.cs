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
        try
        {
            using var probe = spec.HoistEncoderWork ? ProbeEncoderStates(encoder, processor) : null;
            decoder = LoadDecoder(spec.HoistEncoderWork, probe, "off");

            // Cache shape [batch, heads, length, head size]: from the graph when fixed there, else from config.json.
            var pastDims = decoder.WithPast.Step.InputMetadata[decoder.PastNames[0]].Dimensions;
            var heads = pastDims.Length == 4 && pastDims[1] > 0 ? pastDims[1] : ConfigInt(decoderConfig, "n_head", "num_attention_heads", "decoder_attention_heads")
                ?? throw new InvalidModelManifestException(manifest.Name, "neither the decoder graph nor config.json gives the number of attention heads");
            var headSize = pastDims.Length == 4 && pastDims[3] > 0 ? pastDims[3]
                : (ConfigInt(decoderConfig, "n_embd", "hidden_size", "d_model") ?? throw new InvalidModelManifestException(manifest.Name, "config.json gives no decoder hidden size")) / heads;
            var logitsDims = decoder.WithPast.Step.OutputMetadata["logits"].Dimensions;
            var vocabulary = logitsDims.Length == 3 && logitsDims[2] > 0 ? logitsDims[2]
                : ConfigInt(decoderConfig, "vocab_size") ?? throw new InvalidModelManifestException(manifest.Name, "config.json gives no vocab_size");

            if (decoder.IsSplit)
            {
                // The rewrite is checked against the graph as exported before it serves anything.
                string? disagreement;
                using (var whole = LoadDecoder(hoist: false, probe: null, "off"))
                    disagreement = SplitDisagreement(decoder, whole, probe!, vocabulary, heads, headSize, generation.DecoderStartTokenId);
                if (disagreement is not null)
                {
                    decoder.Dispose();
                    decoder = null;
                    decoder = LoadDecoder(hoist: false, probe: null, "not split: " + disagreement);
                }
            }
            return new ImageCaptioner(manifest, encoder, decoder, processor, tokenizer, generation, vocabulary, heads, headSize, spec.Quantized, sessions.Settings.RunLimits);
        }
        catch
        {
            encoder.Dispose();
            decoder?.Dispose();
            throw;
        }

        DecoderSessions LoadDecoder(bool hoist, OrtValue? probe, string whyWhole)
        {
            if (mergedPath is not null)
                return DecoderSessions.Merged(manifest.Name, DecoderGraph.Load(folder.Require(mergedPath), sessions, hoist, probe, whyWhole));
            var first = DecoderGraph.Load(folder.Require(firstPath!), sessions, hoist, probe, whyWhole);
            try
            {
                return DecoderSessions.Split(manifest.Name, first, DecoderGraph.Load(folder.Require(withPastPath!), sessions, hoist, probe, whyWhole));
            }
            catch
            {
                first.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// The encoder's output for three images of fixed pseudo-random pixels: <see cref="DecoderGraph.Load"/> checks with
    /// it that each split-off tensor has a row per image, and <see cref="SplitDisagreement"/> compares logits on it.
    /// </summary>
    private static OrtValue ProbeEncoderStates(InferenceSession encoder, HfImageProcessor processor)
    {
        const int images = 3;
        var (width, height) = processor.OutputSize(new DecodedImage(64, 64, new byte[64 * 64 * 3], ImageFormat.Png, 1, 0));
        var random = new Random(20261123);
        var pixels = new float[images * 3 * width * height];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        var input = encoder.InputNames.Contains("pixel_values") ? "pixel_values" : encoder.InputNames[0];
        var output = encoder.OutputNames.Contains("last_hidden_state") ? "last_hidden_state" : encoder.OutputNames[0];
        using var tensor = OrtValue.CreateTensorValueFromMemory(pixels, [images, 3, height, width]);
        using var runOptions = new RunOptions();
        using var outputs = encoder.Run(runOptions, [input], [tensor], [output]);
        return OrtValue.CreateTensorValueFromMemory(outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }

    /// <summary>
    /// Runs the first step (empty cache) and the second (with it) of the split decoder and of the graph as exported
    /// on the probe images, and says how their logits differ when by more than float rounding; null when they agree.
    /// </summary>
    private static string? SplitDisagreement(DecoderSessions split, DecoderSessions whole, OrtValue probe, int vocabulary, int heads, int headSize, int startToken)
    {
        var shape = probe.GetTensorTypeAndShape().Shape;
        var states = probe.GetTensorDataAsSpan<float>().ToArray();
        int images = (int)shape[0], length = (int)shape[1], hidden = (int)shape[2];
        using var actualSteps = new OnnxDecoderSteps(split, states, images, length, hidden, vocabulary, heads, headSize);
        using var expectedSteps = new OnnxDecoderSteps(whole, states, images, length, hidden, vocabulary, heads, headSize);
        var tokens = Enumerable.Repeat(startToken, images).ToArray();
        for (var step = 1; step <= 2; step++)
        {
            var expected = expectedSteps.Step(tokens, []);
            var actual = actualSteps.Step(tokens, []);
            var scale = Math.Max(1f, expected.Max(Math.Abs));
            var worst = 0f;
            for (var i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            if (!(worst <= 1e-4f * scale))
                return $"its logits differ from the exported graph's by {worst:G3} (largest logit {scale:G3}) at step {step}";
            for (var r = 0; r < images; r++) tokens[r] = LogitsProcessing.ArgMax(expected.AsSpan(r * vocabulary, vocabulary));
        }
        return null;
    }

    private static int? ConfigInt(JsonElement config, params string[] names)
    {
        foreach (var name in names)
            if (config.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number)
                return v.GetInt32();
        return null;
    }
}
