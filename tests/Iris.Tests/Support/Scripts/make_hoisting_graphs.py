"""Small ONNX graphs for the invariant-split tests (python3-onnx, opset 17).

cross.onnx          a one-head cross-attention step: x [B,1,8] attends over encoder_hidden_states [B,5,8]; the keys and
                    values (MatMul of encoder_hidden_states with weights) depend on encoder_hidden_states alone, and a
                    Constant scale is used on both sides of the split.
control_flow.onnx   the same inputs, with an If node whose branches are subgraphs.
shape_frontier.onnx x is reshaped with the row count of encoder_hidden_states, so a shape (not a per-row tensor)
                    crosses the split.

Usage: make_hoisting_graphs.py OUT_DIR
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out_dir = sys.argv[1]
rng = np.random.default_rng(7)


def weight(name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def save(name, nodes, inputs, outputs, initializers):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, f"{out_dir}/{name}.onnx")


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, 8])
enc = helper.make_tensor_value_info("encoder_hidden_states", TensorProto.FLOAT, ["batch", 5, 8])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1, 8])

save("cross", [
    helper.make_node("Constant", [], ["scale"], value=numpy_helper.from_array(np.array(0.5, dtype=np.float32))),
    helper.make_node("MatMul", ["encoder_hidden_states", "wk"], ["k"]),
    helper.make_node("Mul", ["k", "scale"], ["k_scaled"]),
    helper.make_node("Transpose", ["k_scaled"], ["k_t"], perm=[0, 2, 1]),
    helper.make_node("MatMul", ["encoder_hidden_states", "wv"], ["v"]),
    helper.make_node("MatMul", ["x", "wq"], ["q"]),
    helper.make_node("Mul", ["q", "scale"], ["q_scaled"]),
    helper.make_node("MatMul", ["q_scaled", "k_t"], ["scores"]),
    helper.make_node("Softmax", ["scores"], ["attention"], axis=-1),
    helper.make_node("MatMul", ["attention", "v"], ["y"]),
], [x, enc], [y], [weight("wk", 8, 8), weight("wv", 8, 8), weight("wq", 8, 8)])

branch_out = helper.make_tensor_value_info("branch", TensorProto.FLOAT, ["batch", 1, 8])
save("control_flow", [
    helper.make_node("MatMul", ["encoder_hidden_states", "wk"], ["k"]),
    helper.make_node("ReduceSum", ["k"], ["total"], keepdims=0),
    helper.make_node("Greater", ["total", "zero"], ["positive"]),
    helper.make_node("If", ["positive"], ["y"],
                     then_branch=helper.make_graph([helper.make_node("Identity", ["x"], ["branch"])], "then", [], [branch_out]),
                     else_branch=helper.make_graph([helper.make_node("Neg", ["x"], ["branch"])], "else", [], [branch_out])),
], [x, enc], [y], [weight("wk", 8, 8), numpy_helper.from_array(np.array(0, dtype=np.float32), "zero")])

save("shape_frontier", [
    helper.make_node("Shape", ["encoder_hidden_states"], ["enc_shape"]),
    helper.make_node("Slice", ["enc_shape", "zero1", "one1"], ["rows"]),
    helper.make_node("Concat", ["rows", "rest"], ["target"], axis=0),
    helper.make_node("Reshape", ["x", "target"], ["y"]),
], [x, enc], [y], [
    numpy_helper.from_array(np.array([0], dtype=np.int64), "zero1"),
    numpy_helper.from_array(np.array([1], dtype=np.int64), "one1"),
    numpy_helper.from_array(np.array([1, 8], dtype=np.int64), "rest"),
])
