using Iris.Core.Captioning;
using Iris.Core.Inference;
using Iris.Core.Inference.Graphs;
using Iris.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Tests.Inference;

/// <summary>The graphs of Support/Scripts/make_hoisting_graphs.py, built once for the class.</summary>
public sealed class HoistingGraphs : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _folder = new();

    public string File(string name) => _folder.File(name);

    public async Task InitializeAsync() => await PythonScripts.RunAsync("make_hoisting_graphs.py", _folder.Path);

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _folder.Dispose();
}

public sealed class InvariantSplitTests(HoistingGraphs graphs) : IClassFixture<HoistingGraphs>
{
    private static readonly string[] EncoderStates = [DecoderGraph.EncoderStatesInput];

    [Fact]
    public void Split_graphs_compute_exactly_what_the_whole_graph_computes()
    {
        var model = System.IO.File.ReadAllBytes(graphs.File("cross.onnx"));
        var split = InvariantSplit.TryCreate(model, EncoderStates, out var reason);
        Assert.True(split is not null, reason);
        // The keys (scaled, transposed) and the values; the query's MatMul stays in the step graph.
        Assert.Equal(["k_t", "v"], split.Frontier.Order());

        var x = Random(2 * 1 * 8, seed: 1);
        var encoder = Random(2 * 5 * 8, seed: 2);
        using var whole = new InferenceSession(model);
        using var xValue = OrtValue.CreateTensorValueFromMemory(x, [2, 1, 8]);
        using var encoderValue = OrtValue.CreateTensorValueFromMemory(encoder, [2, 5, 8]);
        using var runOptions = new RunOptions();
        using var expected = whole.Run(runOptions, ["x", "encoder_hidden_states"], [xValue, encoderValue], ["y"]);

        using var work = new InferenceSession(split.InvariantModel);
        using var step = new InferenceSession(split.StepModel(name => TypedLike(work, name)));
        Assert.Equal(["x", .. split.Frontier], step.InputNames);
        using var hoisted = work.Run(runOptions, ["encoder_hidden_states"], [encoderValue], split.Frontier.ToArray());
        using var actual = step.Run(runOptions, ["x", .. split.Frontier], [xValue, .. hoisted], ["y"]);
        Assert.Equal(expected[0].GetTensorDataAsSpan<float>().ToArray(), actual[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void A_constant_used_on_both_sides_of_the_split_goes_into_both_graphs()
    {
        var split = InvariantSplit.TryCreate(System.IO.File.ReadAllBytes(graphs.File("cross.onnx")), EncoderStates, out _)!;
        using var work = new InferenceSession(split.InvariantModel);
        var stepModel = OnnxModelFile.Parse(split.StepModel(name => TypedLike(work, name)));
        var invariantModel = OnnxModelFile.Parse(split.InvariantModel);
        Assert.Contains(invariantModel.Nodes, n => n.OpType == "Constant");
        Assert.Contains(stepModel.Nodes, n => n.OpType == "Constant");
        // Each weight lives only where it is used.
        Assert.Equal(["wk", "wv"], invariantModel.Initializers.Select(i => i.Name).Order());
        Assert.Equal(["wq"], stepModel.Initializers.Select(i => i.Name));
    }

    [Fact]
    public void Graphs_with_control_flow_subgraphs_are_left_whole_with_the_reason()
    {
        var split = InvariantSplit.TryCreate(System.IO.File.ReadAllBytes(graphs.File("control_flow.onnx")), EncoderStates, out var reason);
        Assert.Null(split);
        Assert.Contains("control-flow", reason);
    }

    [Fact]
    public void Only_an_if_on_a_graph_input_is_inlined()
    {
        var model = System.IO.File.ReadAllBytes(graphs.File("control_flow.onnx"));
        // Its If tests a value computed inside the graph, not an input a caller sets.
        Assert.Null(IfBranchInlining.TryInline(model, "positive", condition: true, out var reason));
        Assert.Contains("not an input of the graph", reason);
        Assert.Null(IfBranchInlining.TryInline(model, "x", condition: true, out reason));
        Assert.Contains("no If on 'x'", reason);
    }

    [Fact]
    public void A_graph_without_the_invariant_input_is_left_whole_with_the_reason()
    {
        var encoder = Path.Combine(FlowerReference.MirrorFolder("flower-captioner-tiny"), "onnx", "encoder_model.onnx");
        var split = InvariantSplit.TryCreate(System.IO.File.ReadAllBytes(encoder), EncoderStates, out var reason);
        Assert.Null(split);
        Assert.Contains("no input named encoder_hidden_states", reason);
    }

    [Fact]
    public void Bytes_that_are_not_an_onnx_model_are_left_whole_with_the_reason()
    {
        var split = InvariantSplit.TryCreate("not a model at all"u8.ToArray(), EncoderStates, out var reason);
        Assert.Null(split);
        Assert.Contains("not a readable ONNX model", reason);
    }

    [Fact]
    public void A_decoder_whose_split_off_tensor_has_no_row_per_image_runs_whole()
    {
        using var probe = OrtValue.CreateTensorValueFromMemory(new float[3 * 5 * 8], [3, 5, 8]);
        using var graph = DecoderGraph.Load(graphs.File("shape_frontier.onnx"), new OnnxSessionFactory(new InferenceSettings(1)), hoist: true, probe);
        Assert.Null(graph.EncoderWork);
        Assert.Contains("does not have one row per image", graph.Hoisting);
        Assert.Contains(DecoderGraph.EncoderStatesInput, graph.Step.InputNames);
    }

    [Fact]
    public void The_flower_decoder_splits_off_each_layers_cross_attention_keys_and_values()
    {
        var decoder = Path.Combine(FlowerReference.MirrorFolder("flower-captioner-tiny"), "onnx", "decoder_model_merged.onnx");
        var split = InvariantSplit.TryCreate(System.IO.File.ReadAllBytes(decoder), EncoderStates, out var reason);
        Assert.True(split is not null, reason);
        using var work = new InferenceSession(split.InvariantModel);
        using var states = OrtValue.CreateTensorValueFromMemory(new float[2 * 257 * 128], [2, 257, 128]);
        using var runOptions = new RunOptions();
        using var outputs = work.Run(runOptions, ["encoder_hidden_states"], [states], split.Frontier.ToArray());
        // 3 layers × (keys, values), each [rows, 4 heads, 257 positions, 32] (keys transposed for the product with queries).
        Assert.Equal(6, outputs.Count);
        foreach (var output in outputs)
        {
            var shape = output.GetTensorTypeAndShape().Shape;
            Assert.Equal([2L, 4], shape[..2]);
            Assert.Equal([32L, 257], shape[2..].Order());
        }
    }

    [Fact]
    public async Task An_unchanged_model_written_back_runs_exactly_as_the_original()
    {
        var path = Path.Combine(FlowerReference.MirrorFolder("flower-captioner-tiny"), "onnx", "encoder_model.onnx");
        var bytes = await System.IO.File.ReadAllBytesAsync(path);
        var file = OnnxModelFile.Parse(bytes);
        var copy = file.Write(file.Nodes, file.Initializers, file.Inputs, file.Outputs, file.ValueInfos);

        using var original = new InferenceSession(bytes);
        using var rewritten = new InferenceSession(copy);
        using var pixels = OrtValue.CreateTensorValueFromMemory(Random(3 * 128 * 128, seed: 3), [1, 3, 128, 128]);
        using var runOptions = new RunOptions();
        using var expected = original.Run(runOptions, ["pixel_values"], [pixels], ["last_hidden_state"]);
        using var actual = rewritten.Run(runOptions, ["pixel_values"], [pixels], ["last_hidden_state"]);
        Assert.Equal(expected[0].GetTensorDataAsSpan<float>().ToArray(), actual[0].GetTensorDataAsSpan<float>().ToArray());
    }

    private static OnnxNamed TypedLike(InferenceSession work, string name)
    {
        var metadata = work.OutputMetadata[name];
        return OnnxModelFile.TensorValueInfo(name, (int)metadata.ElementDataType, metadata.Dimensions.Select(d => (long)d).ToArray(), metadata.SymbolicDimensions);
    }

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
