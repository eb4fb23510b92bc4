namespace Iris.Core.Inference.Graphs;

/// <summary>
/// Turns a graph exported for exactly one image (YOLOX's <c>images</c> is [1,3,416,416]) into one that takes any
/// number: the batch dimension of every input and output becomes symbolic, and each Reshape whose constant target
/// shape starts with the exported batch of 1 copies that dimension from its input instead (a 0 in ONNX's Reshape).
/// Shapes inferred at export time (value infos) are dropped, since they name the old batch; ONNX Runtime infers them
/// again. What the rewrite cannot see (a batch of 1 hidden in a computed shape, a Resize to fixed sizes) shows when
/// the rewritten graph's outputs are compared with the original's, which every caller must do before using it.
/// </summary>
public static class BatchDimension
{
    public const string SymbolicName = "batch";

    /// <summary>Whether every graph input already has a symbolic (or absent) first dimension, so batches run as exported.</summary>
    public static bool IsSymbolic(ReadOnlyMemory<byte> model)
    {
        if (!OnnxModelFile.TryParse(model, out var file, out _)) return false;
        var initializers = file.Initializers.Select(i => i.Name).ToHashSet();
        return file.Inputs.Where(i => !initializers.Contains(i.Name))
            .All(i => OnnxModelFile.TensorShape(i) is { Dimensions: [< 0, ..] });
    }

    /// <summary>The model with a symbolic batch dimension, or null with the reason it cannot be rewritten.</summary>
    public static byte[]? TryMakeSymbolic(ReadOnlyMemory<byte> model, out string reason)
    {
        if (!OnnxModelFile.TryParse(model, out var file, out reason)) return null;
        if (file.Nodes.Any(n => n.HasSubgraph))
        {
            reason = "the graph has nodes with subgraphs (If, Loop)";
            return null;
        }
        var initializers = file.Initializers.ToDictionary(i => i.Name);
        var inputs = new List<OnnxNamed>();
        foreach (var input in file.Inputs)
        {
            if (initializers.ContainsKey(input.Name))
            {
                inputs.Add(input);
                continue;
            }
            var rewritten = WithSymbolicBatch(input, out reason);
            if (rewritten is null) return null;
            inputs.Add(OnnxModelFile.AsInput(rewritten));
        }
        var outputs = new List<OnnxNamed>();
        foreach (var output in file.Outputs)
        {
            var rewritten = WithSymbolicBatch(output, out reason);
            if (rewritten is null) return null;
            outputs.Add(OnnxModelFile.AsOutput(rewritten));
        }

        // Constants that fix the batch elsewhere: a Resize to absolute sizes, or a shape that builds a tensor.
        var fixedShape = file.Nodes.FirstOrDefault(n =>
            (n.OpType == "Resize" && n.Inputs.Count > 3 && n.Inputs[3].Length > 0 && initializers.ContainsKey(n.Inputs[3]))
            || (n.OpType is "Expand" or "ConstantOfShape" or "Tile" && n.Inputs.Skip(n.OpType == "ConstantOfShape" ? 0 : 1).Any(initializers.ContainsKey)));
        if (fixedShape is not null)
        {
            reason = $"a {fixedShape.OpType} node ('{fixedShape.Outputs.FirstOrDefault()}') has a constant shape";
            return null;
        }

        var replaced = new Dictionary<string, OnnxNamed>();
        foreach (var reshape in file.Nodes.Where(n => n.OpType == "Reshape" && n.Inputs.Count == 2))
        {
            var shapeName = reshape.Inputs[1];
            if (!initializers.TryGetValue(shapeName, out var shape)) continue; // computed at run time from the input's shape
            if (OnnxModelFile.IntAttribute(reshape, "allowzero") == 1)
            {
                reason = $"the Reshape to '{reshape.Outputs[0]}' sets allowzero, so its batch cannot be copied from its input";
                return null;
            }
            var values = OnnxModelFile.Int64Values(shape);
            if (values is null)
            {
                reason = $"the shape of the Reshape to '{reshape.Outputs[0]}' is not a readable int64 constant";
                return null;
            }
            if (values is not [1, ..]) continue;
            if (file.Nodes.Count(n => n.Inputs.Contains(shapeName)) > 1)
            {
                reason = $"the shape '{shapeName}' of a Reshape is also used by other nodes";
                return null;
            }
            replaced[shapeName] = OnnxModelFile.Int64Initializer(shapeName, [0, .. values[1..]]);
        }

        reason = "";
        return file.Write(
            file.Nodes,
            file.Initializers.Select(i => replaced.GetValueOrDefault(i.Name, i)),
            inputs,
            outputs,
            []);
    }

    private static OnnxNamed? WithSymbolicBatch(OnnxNamed info, out string reason)
    {
        var shape = OnnxModelFile.TensorShape(info);
        if (shape is not { Dimensions.Length: > 0 } s)
        {
            reason = $"'{info.Name}' has no shape";
            return null;
        }
        if (s.Dimensions[0] is not (1 or < 0))
        {
            reason = $"the first dimension of '{info.Name}' is {s.Dimensions[0]}, not a batch of 1";
            return null;
        }
        reason = "";
        var names = s.SymbolicNames.ToArray();
        names[0] = SymbolicName;
        return OnnxModelFile.TensorValueInfo(info.Name, s.ElementType, [-1, .. s.Dimensions[1..]], names);
    }
}
