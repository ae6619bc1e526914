#!/usr/bin/python3
"""Multiply-accumulates of an ONNX model at a fixed input size, for docs/arm.md's projection.

Counts Conv, ConvTranspose, MatMul and Gemm after ONNX shape inference (other ops are a few
per cent of the work in these networks). Needs Debian's python3-onnx (scripts/setup --train).
    /usr/bin/python3 scripts/arm64/model-macs.py MODEL.onnx N C H W
"""
import sys

import onnx
from onnx import shape_inference


def dims(value_info):
    return [d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main(path, shape):
    model = onnx.load(path)
    graph_input = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}][0]
    for dim, size in zip(graph_input.type.tensor_type.shape.dim, shape):
        dim.ClearField("dim_param")
        dim.dim_value = size
    model = shape_inference.infer_shapes(model)
    shapes = {v.name: dims(v) for v in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output)}
    shapes.update({t.name: list(t.dims) for t in model.graph.initializer})
    macs = 0
    unknown = 0
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose", "MatMul", "Gemm") and any(not shapes.get(n) or 0 in shapes[n] for n in list(node.input[:2]) + [node.output[0]]):
            unknown += 1  # shape inference could not size it (dynamic reshape); left out
            continue
        out = shapes.get(node.output[0])
        if node.op_type in ("Conv", "ConvTranspose"):
            w = shapes[node.input[1]]  # [M, C/group, kH, kW] (ConvTranspose: [C, M/group, kH, kW])
            inp = shapes[node.input[0]]
            if node.op_type == "Conv":
                macs += out[0] * out[1] * out[2] * out[3] * w[1] * w[2] * w[3]
            else:
                macs += inp[0] * inp[1] * inp[2] * inp[3] * w[1] * w[2] * w[3]
        elif node.op_type in ("MatMul", "Gemm"):
            a = shapes[node.input[0]]
            b = shapes[node.input[1]]
            batch = 1
            for d in out[:-2]:
                batch *= d
            macs += batch * a[-2] * a[-1] * b[-1] if node.op_type == "MatMul" else a[0] * a[1] * b[-1]
    note = f", {unknown} ops of unknown size left out" if unknown else ""
    print(f"{path} at {'x'.join(map(str, shape))}: {macs / 1e9:.3f} GMAC ({2 * macs / 1e9:.3f} GFLOP){note}")


if __name__ == "__main__":
    main(sys.argv[1], [int(x) for x in sys.argv[2:6]])
