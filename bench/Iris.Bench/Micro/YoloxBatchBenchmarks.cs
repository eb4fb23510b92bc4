using BenchmarkDotNet.Attributes;
using Iris.Core.Inference.Graphs;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Bench.Micro;

/// <summary>
/// One YOLOX-Nano run on one thread over a batch of 1, 2, 4 or 8 letterboxed inputs, on the graph whose batch Iris makes
/// symbolic at load (<see cref="BatchDimension"/>): what a batch costs per image on this CPU, which decides whether
/// dynamic batching can raise throughput here (divide the mean by <see cref="Batch"/>).
/// </summary>
public class YoloxBatchBenchmarks
{
    private InferenceSession _session = null!;
    private OrtValue _input = null!;
    private string[] _inputs = [];
    private string[] _outputs = [];

    [Params(1, 2, 4, 8)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Load()
    {
        var model = File.ReadAllBytes(Path.Combine(SharedFolder.ModelsMirror, "yolox-nano", "yolox_nano.onnx"));
        var batched = BatchDimension.TryMakeSymbolic(model, out var why) ?? throw new InvalidOperationException(why);
        using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(batched, options);
        _inputs = [_session.InputNames[0]];
        _outputs = [.. _session.OutputNames];
        var data = new float[Batch * 3 * 416 * 416];
        for (var i = 0; i < data.Length; i++) data[i] = i % 255;
        _input = OrtValue.CreateTensorValueFromMemory(data, [Batch, 3, 416, 416]);
    }

    [Benchmark]
    public int Run()
    {
        using var options = new RunOptions();
        using var results = _session.Run(options, _inputs, [_input], _outputs);
        return results.Count;
    }

    [GlobalCleanup]
    public void Release()
    {
        _input.Dispose();
        _session.Dispose();
    }
}
