using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Inference;

/// <summary>How ONNX Runtime sessions are created. Zero thread counts leave the choice to ONNX Runtime (one per core).</summary>
public sealed record InferenceSettings(
    int IntraOpThreads = 0,
    int InterOpThreads = 0,
    GraphOptimizationLevel GraphOptimization = GraphOptimizationLevel.ORT_ENABLE_ALL,
    ExecutionMode ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    int MaxConcurrentRuns = 0);
