namespace Iris.Core.Inference.Graphs;

/// <summary>
/// Replaces an If node whose condition is a graph input with one of its branches, so that what remains is a plain
/// graph that <see cref="InvariantSplit"/> can work on. Optimum's merged decoders (<c>decoder_model_merged.onnx</c>
/// of <c>Xenova/vit-gpt2-image-captioning</c> and most Hub exports) serve both phases of generation through one If
/// on <c>use_cache_branch</c>: the else branch for the first token, the then branch, with the cache, for the rest.
/// </summary>
public static class IfBranchInlining
{
    /// <summary>
    /// The model with the If on <paramref name="conditionInput"/> replaced by the branch taken when the condition is
    /// <paramref name="condition"/>, and everything only the other branch needed removed; or null with the reason.
    /// </summary>
    public static byte[]? TryInline(ReadOnlyMemory<byte> model, string conditionInput, bool condition, out string reason)
    {
        if (!OnnxModelFile.TryParse(model, out var file, out reason)) return null;
        if (!file.Inputs.Any(i => i.Name == conditionInput))
        {
            reason = $"'{conditionInput}' is not an input of the graph";
            return null;
        }
        var ifs = file.Nodes.Select((node, index) => (node, index))
            .Where(n => n.node.OpType == "If" && n.node.Domain is "" or "ai.onnx" && n.node.Inputs.Count > 0 && n.node.Inputs[0] == conditionInput)
            .ToList();
        if (ifs.Count != 1)
        {
            reason = ifs.Count == 0 ? $"the graph has no If on '{conditionInput}'" : $"the graph has {ifs.Count} If nodes on '{conditionInput}'";
            return null;
        }
        var (ifNode, at) = ifs[0];
        if (file.Nodes.Any(n => n.HasSubgraph && !ReferenceEquals(n, ifNode)))
        {
            reason = "the graph has other nodes with subgraphs";
            return null;
        }
        var attribute = condition ? "then_branch" : "else_branch";
        var encoded = ifNode.Subgraphs.FirstOrDefault(s => s.Attribute == attribute);
        if (encoded is null)
        {
            reason = $"the If has no {attribute}";
            return null;
        }
        OnnxGraph branch;
        try
        {
            branch = OnnxModelFile.ParseGraph(encoded);
        }
        catch (InvalidDataException e)
        {
            reason = $"its {attribute} is not readable ({e.Message})";
            return null;
        }
        if (branch.Nodes.Any(n => n.HasSubgraph) || branch.HasSparseInitializers || branch.Outputs.Count != ifNode.Outputs.Count)
        {
            reason = $"its {attribute} has nested subgraphs, sparse weights or a different number of outputs than the If";
            return null;
        }

        // The branch's outputs take the If's output names through Identity nodes, which ONNX Runtime removes.
        var renames = branch.Outputs.Select((output, i) => (From: output.Name, To: ifNode.Outputs[i]))
            .Where(r => r.To.Length > 0 && r.From != r.To)
            .Select(r => OnnxModelFile.NewNode("Identity", [r.From], [r.To]));
        var nodes = file.Nodes.Take(at).Concat(branch.Nodes).Concat(renames).Concat(file.Nodes.Skip(at + 1)).ToList();

        // Keep only what the graph's outputs need: the other branch's inputs go, the condition among them.
        var needed = file.Outputs.Select(o => o.Name).ToHashSet();
        var kept = new bool[nodes.Count];
        for (var i = nodes.Count - 1; i >= 0; i--)
        {
            kept[i] = nodes[i].Outputs.Any(needed.Contains);
            if (kept[i]) needed.UnionWith(nodes[i].Inputs);
        }
        var keptNodes = nodes.Where((_, i) => kept[i]).ToList();
        var produced = keptNodes.SelectMany(n => n.Outputs).ToHashSet();
        reason = "";
        return file.Write(
            keptNodes,
            file.Initializers.Concat(branch.Initializers).Where(t => needed.Contains(t.Name)),
            file.Inputs.Where(i => needed.Contains(i.Name)),
            file.Outputs,
            file.ValueInfos.Concat(branch.ValueInfos).Where(v => produced.Contains(v.Name)));
    }
}
