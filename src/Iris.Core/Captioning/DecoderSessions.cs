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
/// One generation's decoder state: the encoder output and the key/value cache of every row. Each step feeds only the
/// newest token; present.* outputs become the next step's past_key_values.*. Rows can be gathered between steps, so
/// beam search reorders (and, after its first step, multiplies) its beams, and finished rows stop costing compute.
/// </summary>
public sealed class OnnxDecoderSteps : IDecoderSteps, IDisposable
{
    private readonly DecoderSessions _sessions;
    private readonly float[] _encoded;
    private readonly int _encoderLength;
    private readonly int _hidden;
    private readonly int _heads;
    private readonly int _headSize;
    private readonly Dictionary<string, OrtValue> _past = new();
    private readonly List<OrtValue> _kept = [];
    private IDisposable? _pastOwner;
    private OrtValue? _encoderStates;
    private int[] _rowImage;
    private int _pastLength;

    /// <param name="encoderStates">The encoder output for each image, [images, T, H], flattened. Each image starts as one row.</param>
    public OnnxDecoderSteps(DecoderSessions sessions, float[] encoderStates, int images, int encoderLength, int hidden, int vocabularySize, int heads, int headSize)
    {
        _sessions = sessions;
        _encoded = encoderStates;
        _encoderLength = encoderLength;
        _hidden = hidden;
        _heads = heads;
        _headSize = headSize;
        VocabularySize = vocabularySize;
        _rowImage = Enumerable.Range(0, images).ToArray();
    }

    public int VocabularySize { get; }
    public int Steps { get; private set; }

    /// <summary>Rows of the next step.</summary>
    public int Rows => _rowImage.Length;

    public float[] Step(ReadOnlySpan<int> tokens, ReadOnlySpan<int> sourceRows)
    {
        if (!sourceRows.IsEmpty) Gather(sourceRows);
        var rows = Rows;
        if (tokens.Length != rows) throw new ArgumentException($"Expected {rows} tokens, got {tokens.Length}.", nameof(tokens));
        _encoderStates ??= EncoderStates();

        var session = _pastLength == 0 ? _sessions.First : _sessions.WithPast;
        var owned = new List<OrtValue>();
        try
        {
            var names = new List<string>();
            var values = new List<OrtValue>();
            var ids = new long[rows];
            for (var r = 0; r < rows; r++) ids[r] = tokens[r];
            foreach (var input in session.InputNames)
            {
                names.Add(input);
                values.Add(input switch
                {
                    "input_ids" => Own(owned, OrtValue.CreateTensorValueFromMemory(ids, [rows, 1])),
                    "encoder_hidden_states" => _encoderStates,
                    "encoder_attention_mask" => Own(owned, OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, rows * _encoderLength).ToArray(), [rows, _encoderLength])),
                    "attention_mask" => Own(owned, OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, rows * (_pastLength + 1)).ToArray(), [rows, _pastLength + 1])),
                    "use_cache_branch" => Own(owned, OrtValue.CreateTensorValueFromMemory(new[] { _pastLength > 0 }, [1])),
                    _ when _pastLength > 0 => _past[input],
                    // First step: an empty cache of length 0.
                    _ => Own(owned, OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [rows, _heads, 0, _headSize])),
                });
            }
            var outputNames = session.OutputNames.Where(o => o == "logits" || o.StartsWith("present.", StringComparison.Ordinal)).ToArray();
            using var runOptions = new RunOptions();
            var outputs = session.Run(runOptions, names, values, outputNames);

            var logits = outputs[Array.IndexOf(outputNames, "logits")];
            var shape = logits.GetTensorTypeAndShape().Shape;
            var sequence = (int)shape[1];
            var vocab = (int)shape[2];
            if (vocab != VocabularySize)
            {
                outputs.Dispose();
                throw new InvalidOperationException($"The decoder's logits have {vocab} entries; the model's vocabulary has {VocabularySize}.");
            }
            var data = logits.GetTensorDataAsSpan<float>();
            var result = new float[rows * vocab];
            for (var r = 0; r < rows; r++)
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

    private OrtValue EncoderStates()
    {
        var perImage = _encoderLength * _hidden;
        var rows = new float[Rows * perImage];
        for (var r = 0; r < Rows; r++)
            Array.Copy(_encoded, _rowImage[r] * perImage, rows, r * perImage, perImage);
        return OrtValue.CreateTensorValueFromMemory(rows, [Rows, _encoderLength, _hidden]);
    }

    /// <summary>Row r of the next step continues row sourceRows[r] of this one: its cache and its image.</summary>
    private void Gather(ReadOnlySpan<int> sourceRows)
    {
        var identity = sourceRows.Length == Rows;
        for (var r = 0; r < sourceRows.Length && identity; r++) identity = sourceRows[r] == r;
        if (identity) return;

        var previousRows = Rows;
        var rowImage = new int[sourceRows.Length];
        for (var r = 0; r < sourceRows.Length; r++) rowImage[r] = _rowImage[sourceRows[r]];
        if (!rowImage.AsSpan().SequenceEqual(_rowImage))
        {
            _encoderStates?.Dispose();
            _encoderStates = null;
        }
        _rowImage = rowImage;
        if (_pastLength == 0) return;

        var gatheredValues = new Dictionary<string, OrtValue>();
        foreach (var (name, value) in _past)
        {
            var shape = value.GetTensorTypeAndShape().Shape;
            var data = value.GetTensorDataAsSpan<float>();
            var perRow = data.Length / previousRows;
            var gathered = new float[sourceRows.Length * perRow];
            for (var r = 0; r < sourceRows.Length; r++)
                data.Slice(sourceRows[r] * perRow, perRow).CopyTo(gathered.AsSpan(r * perRow, perRow));
            shape[0] = sourceRows.Length;
            gatheredValues[name] = OrtValue.CreateTensorValueFromMemory(gathered, shape);
        }
        DisposePast();
        foreach (var (name, value) in gatheredValues) _past[name] = value;
        _pastOwner = new OwnedValues(gatheredValues.Values.ToList());
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
        _encoderStates?.Dispose();
    }

    private sealed class OwnedValues(List<OrtValue> values) : IDisposable
    {
        public void Dispose()
        {
            foreach (var v in values) v.Dispose();
        }
    }
}
