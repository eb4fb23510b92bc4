using System.Diagnostics;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Core.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Captioning;

public sealed record Caption(string Text, int[] TokenIds, float? Score);

public sealed record CaptionTimings(double Preprocess, double Encoder, double Decoder, double Postprocess, int DecoderSteps);

public sealed record CaptionBatch(string Model, IReadOnlyList<Caption> Captions, GenerationSettings Settings, CaptionTimings Timings);

/// <summary>
/// A vision encoder-decoder captioner (ViT-GPT2 and kin) run from its Hugging Face export: the image processor from
/// preprocessor_config.json, the encoder once per batch, then greedy or beam search over the decoder with its
/// key/value cache, and the tokenizer's decode with special tokens skipped.
/// </summary>
public sealed class ImageCaptioner : ILoadedModel
{
    private readonly InferenceSession _encoder;
    private readonly DecoderSessions _decoder;
    private readonly string _pixelInput;
    private readonly string _encoderOutput;
    private readonly int _heads;
    private readonly int _headSize;
    private readonly RunGate _runGate;

    public ImageCaptioner(ModelManifest manifest, InferenceSession encoder, DecoderSessions decoder, HfImageProcessor processor,
        BpeTokenizer tokenizer, GenerationSettings generation, int vocabularySize, int heads, int headSize, bool quantized, RunLimits runLimits = default)
    {
        Manifest = manifest;
        _encoder = encoder;
        _decoder = decoder;
        Processor = processor;
        Tokenizer = tokenizer;
        Generation = generation;
        VocabularySize = vocabularySize;
        Quantized = quantized;
        _heads = heads;
        _headSize = headSize;
        _pixelInput = encoder.InputNames.Contains("pixel_values") ? "pixel_values" : encoder.InputNames[0];
        _encoderOutput = encoder.OutputNames.Contains("last_hidden_state") ? "last_hidden_state" : encoder.OutputNames[0];
        _runGate = new RunGate(runLimits, manifest.Name, "describe");
    }

    public ModelManifest Manifest { get; }
    public HfImageProcessor Processor { get; }
    public BpeTokenizer Tokenizer { get; }

    /// <summary>The defaults from generation_config.json; requests override them.</summary>
    public GenerationSettings Generation { get; }

    public int VocabularySize { get; }
    public bool Quantized { get; }
    public string DecoderLayout => _decoder.Layout;

    /// <summary>Whether the decoder's encoder-only work was split off (see <see cref="DecoderGraph"/>), and if not, why.</summary>
    public string EncoderWorkHoisting => _decoder.WithPast.Hoisting;

    public string LoadNote => $"{DecoderLayout} decoder; cross-attention and other encoder-only work: {EncoderWorkHoisting}";

    public Task<CaptionBatch> DescribeAsync(DecodedImage image, GenerationOverrides? overrides = null, CancellationToken cancellationToken = default) =>
        DescribeAsync([image], overrides, cancellationToken);

    /// <summary>Captions a batch: one encoder run for all images, then one decoder run per step for all rows.</summary>
    public async Task<CaptionBatch> DescribeAsync(IReadOnlyList<DecodedImage> images, GenerationOverrides? overrides = null, CancellationToken cancellationToken = default)
    {
        if (images.Count == 0) throw new ArgumentException("Caption at least one image.", nameof(images));
        var settings = Generation.Override(overrides ?? new GenerationOverrides());
        if (settings.NumBeams < 1) throw new ArgumentOutOfRangeException(nameof(overrides), "num_beams must be at least 1.");
        var stopwatch = Stopwatch.StartNew();

        // All images of a batch share one tensor size; the processor resizes to a fixed size for ViT-style encoders.
        var (width, height) = Processor.OutputSize(images[0]);
        var plane = width * height;
        var pixels = new float[images.Count * 3 * plane];
        for (var i = 0; i < images.Count; i++)
        {
            if (Processor.OutputSize(images[i]) != (width, height))
                throw new ArgumentException("Images of one batch must produce the same tensor size.", nameof(images));
            Processor.Fill(images[i], pixels.AsSpan(i * 3 * plane, 3 * plane));
        }
        var preprocess = stopwatch.Elapsed.TotalMilliseconds;

        double encoderMs, decoderMs;
        IReadOnlyList<GeneratedSequence> sequences;
        int steps;
        using (await _runGate.EnterAsync(cancellationToken))
        {
            stopwatch.Restart();
            var encoded = Encode(pixels, images.Count, width, height, out var encoderLength, out var hidden);
            encoderMs = stopwatch.Elapsed.TotalMilliseconds;

            stopwatch.Restart();
            cancellationToken.ThrowIfCancellationRequested();
            using var decoderSteps = new OnnxDecoderSteps(_decoder, encoded, images.Count, encoderLength, hidden, VocabularySize, _heads, _headSize);
            sequences = settings.NumBeams == 1
                ? GreedySearch.Run(decoderSteps, images.Count, settings)
                : BeamSearch.Run(decoderSteps, images.Count, settings);
            steps = decoderSteps.Steps;
            decoderMs = stopwatch.Elapsed.TotalMilliseconds;
        }

        stopwatch.Restart();
        var captions = sequences.Select(s => new Caption(
            Tokenizer.Decode(s.Ids, skipSpecialTokens: true).Trim(), s.Ids, settings.NumBeams > 1 ? s.Score : null)).ToList();
        var postprocess = stopwatch.Elapsed.TotalMilliseconds;
        return new CaptionBatch(Manifest.Name, captions, settings, new CaptionTimings(preprocess, encoderMs, decoderMs, postprocess, steps));
    }

    // Larger encoder batches are slower per image on CPU: a ViT's attention scores for many images at once no longer
    // fit in cache (the flower captioner: 4.8–5.3 ms per image in runs of up to 5 images, 6.1 ms in one run of 20).
    private const int EncoderRunImages = 4;

    /// <summary>The encoder's last_hidden_state for every image, [images, T, H] flattened, run a few images at a time.</summary>
    private float[] Encode(float[] pixels, int images, int width, int height, out int encoderLength, out int hidden)
    {
        var perImagePixels = 3 * width * height;
        float[]? encoded = null;
        (encoderLength, hidden) = (0, 0);
        using var runOptions = new RunOptions();
        for (var start = 0; start < images; start += EncoderRunImages)
        {
            var count = Math.Min(EncoderRunImages, images - start);
            var memory = new Memory<float>(pixels, start * perImagePixels, count * perImagePixels);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory, [count, 3, height, width]);
            using var outputs = _encoder.Run(runOptions, [_pixelInput], [input], [_encoderOutput]);
            var shape = outputs[0].GetTensorTypeAndShape().Shape;
            (encoderLength, hidden) = ((int)shape[1], (int)shape[2]);
            var perImage = encoderLength * hidden;
            encoded ??= new float[images * perImage];
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(encoded.AsSpan(start * perImage, count * perImage));
        }
        return encoded!;
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _decoder.Dispose();
        _runGate.Dispose();
    }
}
