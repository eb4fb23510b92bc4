using BenchmarkDotNet.Running;
using Iris.Bench.Micro;
using Iris.Bench.Throughput;

// One executable, several modes: `http` (the default) measures images per second from raw ONNX Runtime up to
// the real server over loopback; `tasks` compares each route's ONNX Runtime time with its HTTP latency;
// `allocations` counts managed bytes per request of /v1/detect and /v1/analyze;
// `micro` hands the remaining arguments to BenchmarkDotNet; `vectors` and `vectors-pgvector` measure the vector index
// (bench/vectors/run.sh); `batching` compares dynamic batching on and off over HTTP and `batching-cost` a batch's cost per image inside
// ONNX Runtime (bench/batching/run.sh); `faces` measures face recognition against raw UltraFace + FaceRes runs
// (bench/faces/run.sh); `ab` runs two `iris serve` processes that differ in options side by side, load alternated
// between them in short windows (bench/throughput/ab.sh).
if (args is ["micro", .. var benchmarkArguments])
{
    // Without a filter BenchmarkSwitcher asks which benchmarks to run; with no arguments, run them all.
    string[] switcherArguments = benchmarkArguments.Length == 0 ? ["--filter", "*"] : benchmarkArguments;
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(MicroBenchmarkConfig).Assembly).Run(switcherArguments, MicroBenchmarkConfig.Create());
    return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}
if (args is ["tasks", .. var taskArguments])
    return await Iris.Bench.Tasks.TaskLatencyCommand.RunAsync(taskArguments);
if (args is ["vectors", .. var vectorArguments])
    return await Iris.Bench.Vectors.VectorBenchCommand.RunAsync(vectorArguments, pgvector: false);
if (args is ["vectors-pgvector", .. var pgvectorArguments])
    return await Iris.Bench.Vectors.VectorBenchCommand.RunAsync(pgvectorArguments, pgvector: true);
if (args is ["batching-cost", .. var costArguments])
    return await Iris.Bench.Batching.BatchCostCommand.RunAsync(costArguments);
if (args is ["batching", .. var batchingArguments])
    return await Iris.Bench.Batching.BatchingCommand.RunAsync(batchingArguments);
if (args is ["faces", .. var faceArguments])
    return await Iris.Bench.Faces.FaceRecognitionBenchCommand.RunAsync(faceArguments);
if (args is ["ab", .. var abArguments])
    return await AbCommand.RunAsync(abArguments);
if (args is ["allocations", .. var allocationArguments])
    return await Iris.Bench.Allocations.AllocationCommand.RunAsync(allocationArguments);
return await ThroughputCommand.RunAsync(args is ["http", .. var rest] ? rest : args);
