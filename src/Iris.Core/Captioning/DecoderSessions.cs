using Iris.Core.Inference;
using Iris.Core.Inference.Graphs;
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
    private DecoderSessions(string modelName, DecoderGraph first, DecoderGraph withPast, string layout)
    {
        First = first;
        WithPast = withPast;
        Layout = layout;
        var withPastStep = withPast.Step;
        PastNames = withPastStep.InputNames.Where(n => n.StartsWith("past_key_values.", StringComparison.Ordinal)).ToArray();
        if (PastNames.Count == 0)
            throw new InvalidModelManifestException(modelName,
                $"the decoder used after the first step ({layout}) has no past_key_values inputs, so it cannot reuse its cache");
        foreach (var name in PastNames)
        {
            var present = "present." + name["past_key_values.".Length..];
            if (!withPastStep.OutputNames.Contains(present) && !first.Step.OutputNames.Contains(present))
                throw new InvalidModelManifestException(modelName, $"the decoder takes '{name}' but no step outputs '{present}'");
            var type = withPastStep.InputMetadata[name].ElementDataType;
            if (type != TensorElementType.Float)
                throw new InvalidModelManifestException(modelName, $"'{name}' is {type}; only float32 caches are supported");
        }
        var known = new HashSet<string> { "input_ids", "encoder_hidden_states", "encoder_attention_mask", "attention_mask", "use_cache_branch" };
        foreach (var graph in new[] { first, withPast })
            foreach (var input in graph.Step.InputNames)
                if (!known.Contains(input) && !input.StartsWith("past_key_values.", StringComparison.Ordinal) && !graph.EncoderWorkOutputs.Contains(input))
                    throw new InvalidModelManifestException(modelName, $"the decoder has an input '{input}' that Iris does not know how to feed");
        if (!withPastStep.OutputNames.Contains("logits"))
            throw new InvalidModelManifestException(modelName, "the decoder has no 'logits' output");
    }

    public DecoderGraph First { get; }
    public DecoderGraph WithPast { get; }

    /// <summary><c>merged</c> or <c>split</c>.</summary>
    public string Layout { get; }

    public IReadOnlyList<string> PastNames { get; }

    public static DecoderSessions Merged(string modelName, DecoderGraph merged) => new(modelName, merged, merged, "merged");

    public static DecoderSessions Split(string modelName, DecoderGraph first, DecoderGraph withPast) => new(modelName, first, withPast, "split");

    public bool IsSplit => First.IsSplit || WithPast.IsSplit;

    public void Dispose()
    {
        First.Dispose();
        if (!ReferenceEquals(First, WithPast)) WithPast.Dispose();
    }
}

/// <summary>
/// One decoder graph as Iris runs it: the step graph, and, where the work that depends only on the encoder output
/// (the cross-attention keys and values) could be split off with <see cref="InvariantSplit"/>, the graph that does
/// that work once per generation and hands its results to every step.
/// </summary>
public sealed class DecoderGraph : IDisposable
{
    public const string EncoderStatesInput = "encoder_hidden_states";
    public const string UseCacheBranchInput = "use_cache_branch";

    private DecoderGraph(InferenceSession step, InferenceSession? encoderWork, IReadOnlyList<string> encoderWorkOutputs, string hoisting)
    {
        Step = step;
        EncoderWork = encoderWork;
        EncoderWorkOutputs = encoderWorkOutputs;
        Hoisting = hoisting;
        StepOutputs = step.OutputNames.Where(o => o == "logits" || o.StartsWith("present.", StringComparison.Ordinal)).ToArray();
        LogitsOutput = Array.IndexOf(StepOutputs, "logits");
        CacheInputOf = StepOutputs.Select(o => o == "logits" ? null : "past_key_values." + o["present.".Length..]).ToArray();
    }

    /// <summary>The outputs a step asks for: the logits and the new cache (present.*), in this order each step.</summary>
    public string[] StepOutputs { get; }

    public int LogitsOutput { get; }

    /// <summary>For each of <see cref="StepOutputs"/>, the past_key_values.* input it feeds at the next step; null for the logits.</summary>
    public string?[] CacheInputOf { get; }

    public InferenceSession Step { get; }

    /// <summary>Computes <see cref="EncoderWorkOutputs"/> from <c>encoder_hidden_states</c>; null when not split.</summary>
    public InferenceSession? EncoderWork { get; }

    /// <summary>Inputs of <see cref="Step"/> that <see cref="EncoderWork"/> computes, one row per image.</summary>
    public IReadOnlyList<string> EncoderWorkOutputs { get; }

    /// <summary>What became of the split, for model details and logs: how many tensors, or why not.</summary>
    public string Hoisting { get; }

    /// <summary>The graph as exported: every step recomputes everything.</summary>
    public static DecoderGraph Whole(InferenceSession session, string why) => new(session, null, [], why);

    public bool IsSplit => EncoderWork is not null;

    /// <summary>
    /// Loads a decoder, split when <paramref name="hoist"/> and the graph allows it. <paramref name="probeStates"/>
    /// (the encoder output of a few images, at least two) checks that every split-off tensor has one row per image, so rows can be
    /// gathered when beams multiply or finished rows drop; a graph that fails the check runs whole.
    /// </summary>
    public static DecoderGraph Load(string path, OnnxSessionFactory sessions, bool hoist, OrtValue? probeStates, string whyWhole = "off")
    {
        if (!hoist || probeStates is null) return Whole(sessions.Create(path), whyWhole);
        var model = File.ReadAllBytes(path);
        // An Optimum merged decoder: every step, the first included (with an empty cache), runs the cache branch.
        var cacheBranch = IfBranchInlining.TryInline(model, UseCacheBranchInput, condition: true, out _);
        var split = InvariantSplit.TryCreate(cacheBranch ?? model, [EncoderStatesInput], out var reason);
        if (split is null) return Whole(sessions.Create(path), "not split: " + reason);
        var of = cacheBranch is null ? "" : " (cache branch of the merged graph)";

        InferenceSession? work = null, step = null;
        try
        {
            work = sessions.Create(split.InvariantModel);
            var notPerRow = FirstNotPerRow(work, split.Frontier, probeStates);
            if (notPerRow is not null)
            {
                work.Dispose();
                return Whole(sessions.Create(path), $"not split: '{notPerRow}' does not have one row per image");
            }
            step = sessions.Create(split.StepModel(name =>
            {
                var metadata = work.OutputMetadata[name];
                return OnnxModelFile.TensorValueInfo(name, (int)metadata.ElementDataType, metadata.Dimensions.Select(d => (long)d).ToArray(), metadata.SymbolicDimensions);
            }));
            return new DecoderGraph(step, work, split.Frontier, $"{split.Frontier.Count} tensors computed once per image{of}");
        }
        catch (OnnxRuntimeException e)
        {
            // A graph ONNX Runtime will not take after the rewrite still runs as exported.
            work?.Dispose();
            step?.Dispose();
            return Whole(sessions.Create(path), "not split: " + e.Message);
        }
    }

    /// <summary>
    /// The first split-off tensor whose leading dimension is not the number of images, run on all the probe's images
    /// and on all but one, so that a dimension equal to the row count by chance (a shape vector, say) is caught.
    /// </summary>
    private static string? FirstNotPerRow(InferenceSession work, IReadOnlyList<string> outputs, OrtValue probeStates)
    {
        var shape = probeStates.GetTensorTypeAndShape().Shape;
        var all = probeStates.GetTensorDataAsSpan<float>();
        foreach (var rows in new[] { shape[0], shape[0] - 1 })
        {
            var states = all[..(int)(all.Length / shape[0] * rows)].ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(states, [rows, .. shape[1..]]);
            using var runOptions = new RunOptions();
            using var results = work.Run(runOptions, [EncoderStatesInput], [input], outputs.ToArray());
            for (var i = 0; i < results.Count; i++)
            {
                var dims = results[i].GetTensorTypeAndShape().Shape;
                if (dims.Length == 0 || dims[0] != rows) return outputs[i];
            }
        }
        return null;
    }

    public void Dispose()
    {
        Step.Dispose();
        EncoderWork?.Dispose();
    }
}

/// <summary>
/// One generation's decoder state: the encoder output and the key/value cache of every row. Each step feeds only the
/// newest token; present.* outputs become the next step's past_key_values.*. Rows can be gathered between steps, so
/// beam search reorders (and, after its first step, multiplies) its beams, and finished rows stop costing compute.
/// A split decoder's encoder work runs once per graph and generation, one row per image; steps get it gathered by row.
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
    private readonly RunOptions _runOptions = new();
    private IDisposable? _pastOwner;
    private OrtValue? _encoderStates;
    private readonly Dictionary<DecoderGraph, EncoderWorkValues> _encoderWork = new();
    private readonly int _images;
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
        _images = images;
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
        var graph = _pastLength == 0 ? _sessions.First : _sessions.WithPast;
        var session = graph.Step;
        var encoderWork = graph.EncoderWork is null ? null : EncoderWork(graph);
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
                    DecoderGraph.EncoderStatesInput => _encoderStates ??= EncoderStates(),
                    _ when encoderWork is not null && encoderWork.Contains(input) => encoderWork.ForRows(input, _rowImage, _images),
                    "encoder_attention_mask" => Own(owned, OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, rows * _encoderLength).ToArray(), [rows, _encoderLength])),
                    "attention_mask" => Own(owned, OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, rows * (_pastLength + 1)).ToArray(), [rows, _pastLength + 1])),
                    DecoderGraph.UseCacheBranchInput => Own(owned, OrtValue.CreateTensorValueFromMemory(new[] { _pastLength > 0 }, [1])),
                    _ when _pastLength > 0 => _past[input],
                    // First step: an empty cache of length 0.
                    _ => Own(owned, OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [rows, _heads, 0, _headSize])),
                });
            }
            var outputNames = graph.StepOutputs;
            var outputs = session.Run(_runOptions, names, values, outputNames);

            var logits = outputs[graph.LogitsOutput];
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
                if (graph.CacheInputOf[i] is { } past && _sessions.PastNames.Contains(past))
                    _past[past] = outputs[i];
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
            foreach (var work in _encoderWork.Values) work.RowsChanged();
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
        foreach (var work in _encoderWork.Values) work.Dispose();
        _runOptions.Dispose();
    }

    private EncoderWorkValues EncoderWork(DecoderGraph graph)
    {
        if (_encoderWork.TryGetValue(graph, out var values)) return values;
        using var states = OrtValue.CreateTensorValueFromMemory(_encoded, [_images, _encoderLength, _hidden]);
        var outputs = graph.EncoderWork!.Run(_runOptions, [DecoderGraph.EncoderStatesInput], [states], graph.EncoderWorkOutputs.ToArray());
        values = new EncoderWorkValues(graph.EncoderWorkOutputs, outputs);
        _encoderWork[graph] = values;
        return values;
    }

    /// <summary>A split decoder's encoder work for one generation: one row per image, and its rows gathered for the current step.</summary>
    private sealed class EncoderWorkValues(IReadOnlyList<string> names, IDisposableReadOnlyCollection<OrtValue> perImage) : IDisposable
    {
        private readonly Dictionary<string, OrtValue> _perRow = new();

        public bool Contains(string name) => names.Contains(name);

        public OrtValue ForRows(string name, int[] rowImage, int images)
        {
            var source = perImage[IndexOf(name)];
            var identity = rowImage.Length == images;
            for (var r = 0; r < rowImage.Length && identity; r++) identity = rowImage[r] == r;
            if (identity) return source;
            if (_perRow.TryGetValue(name, out var gathered)) return gathered;

            var info = source.GetTensorTypeAndShape();
            var shape = info.Shape;
            var data = source.GetTensorMutableRawData();
            var perRow = data.Length / (int)shape[0];
            shape[0] = rowImage.Length;
            gathered = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, info.ElementDataType, shape);
            var target = gathered.GetTensorMutableRawData();
            for (var r = 0; r < rowImage.Length; r++)
                data.Slice(rowImage[r] * perRow, perRow).CopyTo(target.Slice(r * perRow, perRow));
            _perRow[name] = gathered;
            return gathered;
        }

        public void RowsChanged()
        {
            foreach (var value in _perRow.Values) value.Dispose();
            _perRow.Clear();
        }

        private int IndexOf(string name)
        {
            for (var i = 0; i < names.Count; i++)
                if (names[i] == name) return i;
            throw new KeyNotFoundException(name);
        }

        public void Dispose()
        {
            RowsChanged();
            perImage.Dispose();
        }
    }

    private sealed class OwnedValues(List<OrtValue> values) : IDisposable
    {
        public void Dispose()
        {
            foreach (var v in values) v.Dispose();
        }
    }
}
