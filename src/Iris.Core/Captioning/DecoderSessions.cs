using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Iris.Core.Captioning;

/// <summary>
/// The decoder of an Optimum / transformers.js export, in either layout: one merged graph
/// (<c>decoder_model_merged.onnx</c>, which takes <c>use_cache_branch</c>), or the pair <c>decoder_model.onnx</c>
/// (first step, no cache) + <c>decoder_with_past_model.onnx</c> (every later step).
/// </summary>
public sealed class DecoderSessions : IDisposable
{
    private DecoderSessions(string modelName, InferenceSession first, InferenceSession withPast, string layout)
    {
        First = first;
        WithPast = withPast;
        Layout = layout;
        PastNames = withPast.InputNames.Where(n => n.StartsWith("past_key_values.", StringComparison.Ordinal)).ToArray();
        if (PastNames.Count == 0)
            throw new InvalidModelManifestException(modelName,
                $"the decoder used after the first step ({layout}) has no past_key_values inputs, so it cannot reuse its cache");
        foreach (var name in PastNames)
        {
            var present = "present." + name["past_key_values.".Length..];
            if (!WithPast.OutputNames.Contains(present) && !First.OutputNames.Contains(present))
                throw new InvalidModelManifestException(modelName, $"the decoder takes '{name}' but no step outputs '{present}'");
            var type = WithPast.InputMetadata[name].ElementDataType;
            if (type != TensorElementType.Float)
                throw new InvalidModelManifestException(modelName, $"'{name}' is {type}; only float32 caches are supported");
        }
        var known = new HashSet<string> { "input_ids", "encoder_hidden_states", "encoder_attention_mask", "attention_mask", "use_cache_branch" };
        foreach (var session in new[] { First, WithPast })
            foreach (var input in session.InputNames)
                if (!known.Contains(input) && !input.StartsWith("past_key_values.", StringComparison.Ordinal))
                    throw new InvalidModelManifestException(modelName, $"the decoder has an input '{input}' that Iris does not know how to feed");
        if (!WithPast.OutputNames.Contains("logits"))
            throw new InvalidModelManifestException(modelName, "the decoder has no 'logits' output");
    }

    public InferenceSession First { get; }
    public InferenceSession WithPast { get; }

    /// <summary><c>merged</c> or <c>split</c>.</summary>
    public string Layout { get; }

    public IReadOnlyList<string> PastNames { get; }

    public static DecoderSessions Merged(string modelName, InferenceSession merged) => new(modelName, merged, merged, "merged");

    public static DecoderSessions Split(string modelName, InferenceSession first, InferenceSession withPast) => new(modelName, first, withPast, "split");

    public void Dispose()
    {
        First.Dispose();
        if (!ReferenceEquals(First, WithPast)) WithPast.Dispose();
    }
}

/// <summary>
/// One generation's decoder state: the encoder output (one row per beam) and the key/value cache of every row.
/// Each step feeds only the newest token; present.* outputs become the next step's past_key_values.*, gathered
/// by row when beam search reorders its beams.
/// </summary>
public sealed class OnnxDecoderSteps : IDecoderSteps, IDisposable
{
    private readonly DecoderSessions _sessions;
    private readonly OrtValue _encoderStates;
    private readonly int _rows;
    private readonly int _encoderLength;
    private readonly int[] _pastShape;
    private readonly Dictionary<string, OrtValue> _past = new();
    private IDisposable? _pastOwner;
    private readonly List<OrtValue> _kept = [];
    private int _pastLength;

    /// <param name="encoderStates">The encoder output for each image, [images, T, H], flattened.</param>
    /// <param name="rowsPerImage">Decoder rows per image (num_beams).</param>
    public OnnxDecoderSteps(DecoderSessions sessions, float[] encoderStates, int images, int encoderLength, int hidden, int rowsPerImage, int vocabularySize, int heads, int headSize)
    {
        _sessions = sessions;
        _rows = images * rowsPerImage;
        _encoderLength = encoderLength;
        VocabularySize = vocabularySize;
        var perImage = encoderLength * hidden;
        var expanded = new float[_rows * perImage];
        for (var r = 0; r < _rows; r++)
            Array.Copy(encoderStates, r / rowsPerImage * perImage, expanded, r * perImage, perImage);
        _encoderStates = OrtValue.CreateTensorValueFromMemory(expanded, [_rows, encoderLength, hidden]);
        _pastShape = [_rows, heads, 0, headSize];
    }

    public int VocabularySize { get; }
    public int Steps { get; private set; }

    public float[] Step(ReadOnlySpan<int> tokens, ReadOnlySpan<int> sourceRows)
    {
        if (tokens.Length != _rows) throw new ArgumentException($"Expected {_rows} tokens, got {tokens.Length}.", nameof(tokens));
        if (!sourceRows.IsEmpty && _pastLength > 0) Reorder(sourceRows);

        var session = _pastLength == 0 ? _sessions.First : _sessions.WithPast;
        var owned = new List<OrtValue>();
        try
        {
            var names = new List<string>();
            var values = new List<OrtValue>();
            foreach (var input in session.InputNames)
            {
                names.Add(input);
                values.Add(input switch
                {
                    "input_ids" => Own(owned, OrtValue.CreateTensorValueFromMemory(tokens.ToArray().Select(t => (long)t).ToArray(), [_rows, 1])),
                    "encoder_hidden_states" => _encoderStates,
                    "encoder_attention_mask" => Own(owned, OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, _rows * _encoderLength).ToArray(), [_rows, _encoderLength])),
                    "attention_mask" => Own(owned, OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, _rows * (_pastLength + 1)).ToArray(), [_rows, _pastLength + 1])),
                    "use_cache_branch" => Own(owned, OrtValue.CreateTensorValueFromMemory(new[] { _pastLength > 0 }, [1])),
                    _ when _pastLength > 0 => _past[input],
                    // First step: an empty cache of length 0.
                    _ => Own(owned, OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, _pastShape.Select(d => (long)d).ToArray())),
                });
            }
            var outputNames = session.OutputNames.Where(o => o == "logits" || o.StartsWith("present.", StringComparison.Ordinal)).ToArray();
            using var runOptions = new RunOptions();
            var outputs = session.Run(runOptions, names, values, outputNames);

            var logitsIndex = Array.IndexOf(outputNames, "logits");
            var logits = outputs[logitsIndex];
            var shape = logits.GetTensorTypeAndShape().Shape;
            var sequence = (int)shape[1];
            var vocab = (int)shape[2];
            if (vocab != VocabularySize) throw new InvalidOperationException($"The decoder's logits have {vocab} entries; the model's vocabulary has {VocabularySize}.");
            var data = logits.GetTensorDataAsSpan<float>();
            var result = new float[_rows * vocab];
            for (var r = 0; r < _rows; r++)
                data.Slice((r * sequence + sequence - 1) * vocab, vocab).CopyTo(result.AsSpan(r * vocab, vocab));

            // The outputs own the new cache; the previous step's outputs can go.
            var previousOwner = _pastOwner;
            var previous = new Dictionary<string, OrtValue>(_past);
            for (var i = 0; i < outputNames.Length; i++)
                if (outputNames[i].StartsWith("present.", StringComparison.Ordinal))
                {
                    var past = "past_key_values." + outputNames[i]["present.".Length..];
                    if (_sessions.PastNames.Contains(past)) _past[past] = outputs[i];
                }
            _pastOwner = outputs;
            // Cache entries no output replaced (cross-attention keys some exports emit only once) are kept alive by copying them.
            foreach (var (name, value) in previous)
                if (ReferenceEquals(_past[name], value) && previousOwner is not null)
                {
                    _past[name] = Copy(value);
                    _kept.Add(_past[name]);
                }
            previousOwner?.Dispose();
            _pastLength = (int)_past[_sessions.PastNames[0]].GetTensorTypeAndShape().Shape[2];
            Steps++;
            return result;
        }
        finally
        {
            foreach (var value in owned) value.Dispose();
        }
    }

    private static OrtValue Own(List<OrtValue> owned, OrtValue value)
    {
        owned.Add(value);
        return value;
    }

    private static OrtValue Copy(OrtValue value)
    {
        var shape = value.GetTensorTypeAndShape().Shape;
        return OrtValue.CreateTensorValueFromMemory(value.GetTensorDataAsSpan<float>().ToArray(), shape);
    }

    /// <summary>Row r of the cache becomes a copy of row sourceRows[r] (beam search's cache reordering).</summary>
    private void Reorder(ReadOnlySpan<int> sourceRows)
    {
        var identity = true;
        for (var r = 0; r < sourceRows.Length; r++) identity &= sourceRows[r] == r;
        if (identity) return;
        var reordered = new Dictionary<string, OrtValue>();
        foreach (var (name, value) in _past)
        {
            var shape = value.GetTensorTypeAndShape().Shape;
            var data = value.GetTensorDataAsSpan<float>();
            var perRow = data.Length / _rows;
            var gathered = new float[data.Length];
            for (var r = 0; r < _rows; r++)
                data.Slice(sourceRows[r] * perRow, perRow).CopyTo(gathered.AsSpan(r * perRow, perRow));
            reordered[name] = OrtValue.CreateTensorValueFromMemory(gathered, shape);
        }
        DisposePast();
        foreach (var (name, value) in reordered) _past[name] = value;
        _pastOwner = new OwnedValues(reordered.Values.ToList());
    }

    private void DisposePast()
    {
        if (_pastOwner is not null)
        {
            _pastOwner.Dispose();
            _pastOwner = null;
        }
        _past.Clear();
    }

    public void Dispose()
    {
        DisposePast();
        foreach (var value in _kept) value.Dispose();
        _encoderStates.Dispose();
    }

    private sealed class OwnedValues(List<OrtValue> values) : IDisposable
    {
        public void Dispose()
        {
            foreach (var v in values) v.Dispose();
        }
    }
}
