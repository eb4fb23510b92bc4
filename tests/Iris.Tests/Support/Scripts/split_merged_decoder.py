"""Derives Optimum's two-file decoder layout from a merged decoder whose graph ignores use_cache_branch.

decoder_with_past_model.onnx: the merged graph without the use_cache_branch input.
decoder_model.onnx: the same graph with every past_key_values.* input replaced by an empty tensor
[batch, heads, 0, head_size] computed inside the graph, so it takes only input_ids and encoder_hidden_states,
as a first-step decoder does.

Usage: split_merged_decoder.py MERGED.onnx OUT_DIR
"""
import sys

import onnx
from onnx import TensorProto, helper, numpy_helper
import numpy as np

merged_path, out_dir = sys.argv[1], sys.argv[2]

with_past = onnx.load(merged_path)
graph = with_past.graph
for inp in list(graph.input):
    if inp.name == "use_cache_branch":
        graph.input.remove(inp)
onnx.save(with_past, f"{out_dir}/decoder_with_past_model.onnx")

first = onnx.load(merged_path)
graph = first.graph
nodes = [
    helper.make_node("Shape", ["input_ids"], ["split__ids_shape"]),
    helper.make_node("Gather", ["split__ids_shape", "split__zero"], ["split__batch"], axis=0),
    helper.make_node("Unsqueeze", ["split__batch", "split__axes0"], ["split__batch1"]),
]
initializers = [
    numpy_helper.from_array(np.array(0, dtype=np.int64), "split__zero"),
    numpy_helper.from_array(np.array([0], dtype=np.int64), "split__axes0"),
]
for inp in list(graph.input):
    if inp.name == "use_cache_branch":
        graph.input.remove(inp)
    elif inp.name.startswith("past_key_values."):
        dims = inp.type.tensor_type.shape.dim
        heads, head_size = dims[1].dim_value, dims[3].dim_value
        rest = f"split__rest_{heads}_{head_size}"
        if not any(i.name == rest for i in initializers):
            initializers.append(numpy_helper.from_array(np.array([heads, 0, head_size], dtype=np.int64), rest))
        shape = f"split__shape_{inp.name}"
        nodes.append(helper.make_node("Concat", ["split__batch1", rest], [shape], axis=0))
        nodes.append(helper.make_node("ConstantOfShape", [shape], [inp.name],
                                      value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])))
        graph.input.remove(inp)
for node in reversed(nodes):
    graph.node.insert(0, node)
graph.initializer.extend(initializers)
onnx.checker.check_model(first)
onnx.save(first, f"{out_dir}/decoder_model.onnx")
