"""Builds a decoder in Optimum's merged layout, one If on use_cache_branch, from the two-file layout.

Optimum's merge_decoders (and so the decoder_model_merged.onnx of most Hub exports, Xenova/vit-gpt2-image-captioning
among them) writes one graph whose only node is an If on the bool input use_cache_branch: then_branch is
decoder_with_past_model.onnx, else_branch is decoder_model.onnx, both reading the shared weights and the graph inputs
from the outer scope. This script rebuilds that layout from the pair that split_merged_decoder.py derives from the
mirror's captioner, renaming each branch's own tensors so that no branch name shadows an outer one.

With --offset-cache-branch X, the then branch adds X to every logit: the argmax and the log-softmax stay the same,
but the then branch no longer computes the first step as the else branch does (for the fallback test).

Usage: make_if_merged_decoder.py DIR [--offset-cache-branch X]
       (reads DIR/decoder_model.onnx and DIR/decoder_with_past_model.onnx, writes DIR/decoder_model_merged.onnx)
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

directory = sys.argv[1]
offset = float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--offset-cache-branch" else None
first = onnx.load(f"{directory}/decoder_model.onnx")
with_past = onnx.load(f"{directory}/decoder_with_past_model.onnx")
outer_inputs = {i.name for i in with_past.graph.input}
initializers = {}
for model in (with_past, first):
    for tensor in model.graph.initializer:
        initializers.setdefault(tensor.name, tensor)


def branch(model, prefix, logits_offset=None):
    graph = model.graph
    produced = {o for n in graph.node for o in n.output}
    rename = {name: prefix + name for name in produced}
    nodes = []
    for index, node in enumerate(graph.node):
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.input[:] = [rename.get(i, i) for i in node.input]
        copy.output[:] = [rename.get(o, o) for o in node.output]
        copy.name = prefix + (node.name or f"node{index}")
        nodes.append(copy)
    if logits_offset is not None:
        shifted = prefix + "logits_offset"
        nodes.append(helper.make_node("Constant", [], [prefix + "offset"],
                                      value=numpy_helper.from_array(np.array(logits_offset, dtype=np.float32))))
        nodes.append(helper.make_node("Add", [rename["logits"], prefix + "offset"], [shifted]))
        rename["logits"] = shifted
    outputs = []
    for output in graph.output:
        info = onnx.ValueInfoProto()
        info.CopyFrom(output)
        info.name = rename[output.name]
        outputs.append(info)
    return helper.make_graph(nodes, prefix + "branch", [], outputs)


if_node = helper.make_node(
    "If", ["use_cache_branch"], [o.name for o in with_past.graph.output], name="optimum::if",
    then_branch=branch(with_past, "with_past__", offset), else_branch=branch(first, "first__"))
use_cache = helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])
graph = helper.make_graph([if_node], "merged_decoder", list(with_past.graph.input) + [use_cache],
                          list(with_past.graph.output), list(initializers.values()))
merged = helper.make_model(graph, opset_imports=with_past.opset_import)
merged.ir_version = with_past.ir_version
onnx.checker.check_model(merged)
onnx.save(merged, f"{directory}/decoder_model_merged.onnx")
