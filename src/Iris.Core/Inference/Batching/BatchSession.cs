using Iris.Core.Inference.Graphs;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Inference.Batching;

/// <summary>
/// The session a model runs batches on: the exported graph when its batch dimension is already symbolic, else the
/// graph rewritten by <see cref="BatchDimension"/>. Either way it is used only after its outputs for a batch of probe
/// inputs matched, row by row, the outputs of the exported graph run on each probe alone; otherwise the model runs
/// unbatched and <see cref="Note"/> says why.
/// </summary>
public static class BatchSession
{
    /// <summary>Largest difference allowed between a batched output and the same input run alone, relative to the value (at least 1).</summary>
    public const float Tolerance = 1e-4f;

    /// <summary>What loading decided: the batch session (null when the model runs unbatched, possibly <paramref name="single"/> itself) and why.</summary>
    public sealed record Result(InferenceSession? Session, string Note);

    /// <summary>
    /// Finds or makes a session of the model at <paramref name="path"/> that runs batches of <paramref name="input"/>,
    /// checked on <paramref name="probes"/> (at least two inputs of shape <paramref name="itemShape"/>, without the batch dimension).
    /// A rewritten graph gets its session from <paramref name="createSession"/>: batches run only under concurrency, so a
    /// model with adaptive sessions gives <see cref="OnnxSessionFactory.CreateConcurrentRun(byte[])"/>.
    /// </summary>
    public static Result Load(string path, InferenceSession single, Func<byte[], InferenceSession> createSession, string input, long[] itemShape,
        string[] outputs, IReadOnlyList<float[]> probes)
    {
        var model = File.ReadAllBytes(path);
        InferenceSession? batched = null;
        string how;
        try
        {
            if (BatchDimension.IsSymbolic(model))
            {
                batched = single;
                how = "batch dimension symbolic as exported";
            }
            else
            {
                var rewritten = BatchDimension.TryMakeSymbolic(model, out var reason);
                if (rewritten is null) return new Result(null, "batching off: " + reason);
                batched = createSession(rewritten);
                how = "batch dimension made symbolic at load";
            }
            var mismatch = FirstMismatch(single, batched, input, itemShape, outputs, probes);
            if (mismatch is null) return new Result(batched, $"batching on ({how}, checked on {probes.Count} probe inputs)");
            if (!ReferenceEquals(batched, single)) batched.Dispose();
            return new Result(null, $"batching off: {mismatch}");
        }
        catch (OnnxRuntimeException e)
        {
            // A rewritten graph ONNX Runtime will not take, or will not run with a batch, runs unbatched as exported.
            if (batched is not null && !ReferenceEquals(batched, single)) batched.Dispose();
            return new Result(null, "batching off: " + e.Message);
        }
    }

    /// <summary>Why the batched outputs differ from the single ones, or null when every row matches.</summary>
    private static string? FirstMismatch(InferenceSession single, InferenceSession batched, string input, long[] itemShape, string[] outputs,
        IReadOnlyList<float[]> probes)
    {
        var alone = probes.Select(p => Run(single, input, [1, .. itemShape], p, outputs)).ToArray();
        var together = Run(batched, input, [probes.Count, .. itemShape], probes.SelectMany(p => p).ToArray(), outputs);
        for (var o = 0; o < outputs.Length; o++)
        {
            var (shape, data) = together[o];
            var (rowShape, _) = alone[0][o];
            if (shape.Length != rowShape.Length || shape[0] != probes.Count || !shape.AsSpan(1).SequenceEqual(rowShape.AsSpan(1)))
                return $"'{outputs[o]}' of a batch of {probes.Count} has shape [{string.Join(",", shape)}], not [{probes.Count},{string.Join(",", rowShape[1..])}]";
            var row = data.Length / probes.Count;
            for (var p = 0; p < probes.Count; p++)
            {
                var expected = alone[p][o].Data;
                for (var i = 0; i < row; i++)
                {
                    var a = expected[i];
                    var b = data[p * row + i];
                    if (!(Math.Abs(a - b) <= Tolerance * Math.Max(1f, Math.Abs(a))))
                        return $"'{outputs[o]}' of probe {p} differs in a batch ({b} against {a} alone at index {i})";
                }
            }
        }
        return null;
    }

    private static (long[] Shape, float[] Data)[] Run(InferenceSession session, string input, long[] shape, float[] data, string[] outputs)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var runOptions = new RunOptions();
        // A check at load, not serving: the arena gives back what a probe batch's activations took.
        runOptions.AddRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
        using var results = session.Run(runOptions, [input], [value], outputs);
        return results.Select(r => (r.GetTensorTypeAndShape().Shape, r.GetTensorDataAsSpan<float>().ToArray())).ToArray();
    }
}
