using System.Buffers;
using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Faces;

/// <summary>
/// Human's FaceRes: square face crops resized to 224² (TF bilinear, see <see cref="FaceCrop.WriteTensor"/>), NHWC RGB
/// 0–255, one ONNX run per batch of faces; the raw descriptor is L2-normalised here, age and gender are read as Human does.
/// </summary>
public sealed class FaceResEmbedder : ILoadedModel
{
    private readonly InferenceSession _session;
    private readonly FaceEmbedderSpec _spec;
    private readonly string _inputName;
    private readonly string[] _outputNames;
    private readonly RunGate _runGate;

    public FaceResEmbedder(ModelManifest manifest, FaceEmbedderSpec spec, InferenceSession session, RunLimits runLimits = default,
        InferenceSession? loneRun = null)
    {
        if (spec.Architecture != "faceres")
            throw new InvalidModelManifestException(manifest.Name, $"face_embedder architecture '{spec.Architecture}' is not supported (supported: faceres)");
        if (spec.InputSize is < 16 or > 1024 || spec.MaxBatch < 1 || spec.CropMargin is < 0 or > 2)
            throw new InvalidModelManifestException(manifest.Name, "face_embedder needs input_size 16–1024, max_batch ≥ 1 and crop_margin 0–2");
        Manifest = manifest;
        _spec = spec;
        _session = session;
        _inputName = spec.InputName ?? session.InputNames[0];
        if (!session.InputMetadata.ContainsKey(_inputName))
            throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no input named '{_inputName}' (it has {string.Join(", ", session.InputNames)})");
        _outputNames = new[] { spec.DescriptorOutput, spec.GenderOutput, spec.AgeOutput }.OfType<string>().ToArray();
        foreach (var output in _outputNames)
            if (!session.OutputMetadata.ContainsKey(output))
                throw new InvalidModelManifestException(manifest.Name, $"the ONNX file has no output named '{output}' (it has {string.Join(", ", session.OutputNames)})");
        _runGate = new RunGate(runLimits, manifest.Name, "face-embed");
        _runGate.UseLoneRunSession(session, loneRun);
    }

    public ModelManifest Manifest { get; }

    /// <summary>The margin this model's crops take around a detector's box (manifest <c>crop_margin</c>).</summary>
    public float CropMargin => _spec.CropMargin;

    /// <summary>Describes each crop of <paramref name="image"/>, in order, batching up to <c>max_batch</c> crops per run.</summary>
    /// <returns>The descriptions, and the milliseconds spent filling tensors and running ONNX Runtime.</returns>
    public async Task<(IReadOnlyList<FaceDescription> Faces, double PreprocessMs, double InferenceMs)> DescribeAsync(
        DecodedImage image, IReadOnlyList<FaceCrop> crops, CancellationToken cancellationToken = default)
    {
        var size = _spec.InputSize;
        var perFace = size * size * 3;
        var faces = new List<FaceDescription>(crops.Count);
        double preprocessMs = 0, inferenceMs = 0;
        for (var start = 0; start < crops.Count; start += _spec.MaxBatch)
        {
            var count = Math.Min(_spec.MaxBatch, crops.Count - start);
            var input = ArrayPool<float>.Shared.Rent(count * perFace);
            try
            {
                var clock = Stopwatch.GetTimestamp();
                var tensor = input.AsMemory(0, count * perFace);
                for (var i = 0; i < count; i++)
                {
                    var crop = crops[start + i];
                    if (crop.X < 0 || crop.Y < 0 || crop.Side < 1 || crop.X + crop.Side > image.Width || crop.Y + crop.Side > image.Height)
                        throw new ArgumentOutOfRangeException(nameof(crops), $"crop {crop} does not lie inside the {image.Width}×{image.Height} image");
                    crop.WriteTensor(image.Rgb, image.Width, size, tensor.Span.Slice(i * perFace, perFace));
                }
                preprocessMs += Stopwatch.GetElapsedTime(clock).TotalMilliseconds;
                var (batch, runMs) = await _runGate.RunAsync(_session, [_inputName], tensor, [count, size, size, 3], _outputNames,
                    outputs => Read(outputs, count), cancellationToken);
                inferenceMs += runMs;
                faces.AddRange(batch);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(input);
            }
        }
        return (faces, preprocessMs, inferenceMs);
    }

    private List<FaceDescription> Read(IReadOnlyList<OrtValue> outputs, int count)
    {
        var descriptors = outputs[0].GetTensorDataAsSpan<float>();
        var dimension = descriptors.Length / count;
        var gender = _spec.GenderOutput is null ? default : outputs[1].GetTensorDataAsSpan<float>();
        var ages = _spec.AgeOutput is null ? default : outputs[_outputNames.Length - 1].GetTensorDataAsSpan<float>();
        var bins = ages.Length / count;
        var faces = new List<FaceDescription>(count);
        for (var i = 0; i < count; i++)
        {
            var (descriptor, norm) = FaceDescriptors.Normalize(descriptors.Slice(i * dimension, dimension));
            var (label, confidence) = gender.IsEmpty ? ("unknown", 0f) : Gender(gender[i]);
            var age = ages.IsEmpty ? float.NaN : Age(ages.Slice(i * bins, bins));
            faces.Add(new FaceDescription(descriptor, norm, age, label, confidence));
        }
        return faces;
    }

    /// <summary>Human: ≤ 0.5 female, > 0.5 male; its score is the winning side's probability, capped at 0.99.</summary>
    public static (string Label, float Confidence) Gender(float sigmoid) =>
        sigmoid <= 0.5f ? ("female", MathF.Min(0.99f, 1 - sigmoid)) : ("male", MathF.Min(0.99f, sigmoid));

    /// <summary>
    /// Human's age (<c>src/face/faceres.ts</c>): bin i is i years; the arg-max bin is refined by its larger neighbour,
    /// round(10·i − 100·p[i−1]) / 10 or round(10·i + 100·p[i+1]) / 10 years.
    /// </summary>
    public static float Age(ReadOnlySpan<float> bins)
    {
        var i = 0;
        for (var k = 1; k < bins.Length; k++)
            if (bins[k] > bins[i]) i = k;
        var below = i > 0 ? bins[i - 1] : 0f;
        var above = i < bins.Length - 1 ? bins[i + 1] : 0f;
        var tenths = below > above ? 10 * i - 100 * below : 10 * i + 100 * above;
        return MathF.Round(tenths) / 10f;
    }

    public void Dispose()
    {
        _session.Dispose();
        _runGate.Dispose();
    }
}
