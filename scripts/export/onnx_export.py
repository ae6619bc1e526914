"""ONNX export shared by the reader and the detector: BN-folded module -> FP32 graph, static QDQ
INT8 quantisation (python3-onnx only), and a small torch executor for the graphs' handful of ops
(no onnxruntime python package exists on this machine). export_reader.py's docstring explains
the quantisation."""

import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

OPSET = 13


# ----------------------------------------------------------------------------- mini executor

def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def run_graph(model, feeds, keep=None):
    """Evaluates the handful of ops our graphs use, with torch. Returns {name: tensor} for the
    graph outputs plus any names in `keep`."""
    g = model.graph
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in g.initializer}
    env.update({k: torch.as_tensor(v) for k, v in feeds.items()})
    kept = {}
    for n in g.node:
        a, i = _attrs(n), [env[x] if x else None for x in n.input]
        op = n.op_type
        if op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            x = i[0]
            if p[0] != p[2] or p[1] != p[3]:
                x, pad = F.pad(x, (p[1], p[3], p[0], p[2])), (0, 0)
            else:
                pad = (p[0], p[1])
            y = F.conv2d(x, i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]), pad,
                         a.get("dilations", [1, 1]), a.get("group", 1))
        elif op == "Relu":
            y = torch.relu(i[0])
        elif op == "Constant":
            y = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
        elif op == "Squeeze":
            y = i[0]
            for ax in sorted([int(v) for v in i[1].tolist()], reverse=True):
                y = y.squeeze(ax)
        elif op == "Transpose":
            y = i[0].permute(*a["perm"])
        elif op == "Pad":
            pads = [int(v) for v in i[1].tolist()]
            nd = len(pads) // 2
            tp = []
            for d in reversed(range(nd)):
                tp += [pads[d], pads[d + nd]]
            y = F.pad(i[0], tp) if any(pads) else i[0]
        elif op == "AveragePool":
            assert not any(a.get("pads", [0])), "padded AveragePool not supported"
            y = F.avg_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]))
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = i[0].t() if a.get("transA", 0) else i[0]
            B = i[1].t() if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "LogSoftmax":
            y = torch.log_softmax(i[0], dim=a.get("axis", -1))
        elif op in ("QuantizeLinear", "DequantizeLinear"):
            x, s = i[0], i[1].float()
            zp = i[2] if len(i) > 2 and i[2] is not None else torch.zeros((), dtype=torch.uint8)
            ax = a.get("axis", 1)
            if s.dim() == 1 and s.numel() > 1:
                shape = [1] * x.dim()
                shape[ax] = -1
                s, zpv = s.reshape(shape), zp.to(torch.float64).reshape(shape)
            else:
                zpv = zp.to(torch.float64)
            if op == "QuantizeLinear":
                info = torch.iinfo(zp.dtype)
                q = torch.clamp(torch.round(x.double() / s.double()) + zpv, info.min, info.max)
                y = q.to(zp.dtype)
            else:
                y = ((x.double() - zpv) * s.double()).float()
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = y
        if keep and n.output[0] in keep:
            kept[n.output[0]] = y
    for o in g.output:
        kept[o.name] = env[o.name]
    return kept


# ----------------------------------------------------------------------------- QDQ builder

def _consumers(g, name):
    return [n for n in g.node if name in n.input]


def _strip_noop_pads(g):
    for n in list(g.node):
        if n.op_type == "Pad":
            pads = None
            for init in g.initializer:
                if init.name == n.input[1]:
                    pads = numpy_helper.to_array(init)
            for c in g.node:
                if c.op_type == "Constant" and c.output[0] == n.input[1]:
                    pads = numpy_helper.to_array(_attrs(c)["value"])
            if pads is not None and not pads.any():
                for c in _consumers(g, n.output[0]):
                    for k, v in enumerate(c.input):
                        if v == n.output[0]:
                            c.input[k] = n.input[0]
                g.node.remove(n)
    used = {x for n in g.node for x in n.input}
    for n in list(g.node):
        if n.op_type == "Constant" and n.output[0] not in used:
            g.node.remove(n)


def _act_qparams(lo, hi):
    """uint8 affine params covering [lo, hi] and 0 (zero must be exact for padding)."""
    lo, hi = min(0.0, float(lo)), max(0.0, float(hi))
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    s = (hi - lo) / 255.0
    zp = int(np.clip(round(-lo / s), 0, 255))
    return np.float32(s), np.uint8(zp)


def _toposort(nodes, graph_inputs, inits):
    have = set(graph_inputs) | set(inits) | {""}
    out, pending = [], list(nodes)
    while pending:
        progressed = False
        for n in list(pending):
            if all(x in have for x in n.input):
                out.append(n)
                have.update(n.output)
                pending.remove(n)
                progressed = True
        if not progressed:
            raise RuntimeError("graph has a cycle or a missing input")
    return out


def calib_ranges(model, batches, names, pct):
    """Per-tensor (lo, hi): the pct/100-pct percentiles of all calibration values (pct=100 is
    plain min/max). Percentiles keep one hot pixel from wasting the uint8 range."""
    vals = {n: [] for n in names}
    rng = np.random.default_rng(0)
    for x in batches:
        out = run_graph(model, {"input": x}, keep=set(names))
        for n in names:
            v = out[n].detach().reshape(-1).numpy()
            if v.size > 200000:
                v = rng.choice(v, 200000, replace=False)
            vals[n].append(v)
    res = {}
    for n in names:
        v = np.concatenate(vals[n])
        res[n] = (float(v.min()), float(v.max())) if pct >= 100 else \
            (float(np.percentile(v, 100 - pct)), float(np.percentile(v, pct)))
    return res


def quantize_qdq(fp32, calib_batches, pct=99.99, reduce_range=False, float_first_conv=False):
    """Static QDQ: int8 per-channel weights, uint8 activations calibrated on `calib_batches`.
    float_first_conv keeps the Conv that reads the graph input in FP32 (its output is still
    quantised): onnxruntime's int8 kernel is slow on 3 input channels (measured on the detector,
    1x3x384x640, one thread: 3.2 ms int8 against 1.0 ms fp32), and the input then needs no Q."""
    m = onnx.ModelProto()
    m.CopyFrom(fp32)
    g = m.graph
    _strip_noop_pads(g)
    inits = {i.name: i for i in g.initializer}
    prod = {o: n for n in g.node for o in n.output}
    outputs = {o.name for o in g.output}

    # 1. Conv/Gemm -> Relu pairs: the Relu goes, its range is calibrated on its own output.
    relu_of = {}
    for n in g.node:
        if n.op_type == "Relu":
            p = prod.get(n.input[0])
            if p is not None and p.op_type in ("Conv", "Gemm") and len(_consumers(g, n.input[0])) == 1:
                relu_of[n.input[0]] = n
    # 2. Tensors that carry Q->DQ. The outputs of the final Conv (text) and Gemm (state) keep
    #    the full min/max so that clipping never changes which class wins.
    quant = [] if float_first_conv else ["input"]
    exact = set()
    for n in g.node:
        if n.op_type in ("Conv", "Gemm"):
            quant.append(n.output[0])
            if n.output[0] not in relu_of:
                exact.add(n.output[0])
        elif n.op_type == "AveragePool":
            quant.append(n.output[0])
    calib_name = {t: (relu_of[t].output[0] if t in relu_of else t) for t in quant if t != "input"}
    r1 = calib_ranges(fp32, calib_batches, [v for k, v in calib_name.items() if k not in exact], pct)
    r2 = calib_ranges(fp32, calib_batches, [calib_name[k] for k in exact], 100)
    ranges = {"input": (-1.0, 1.0)}
    for t, c in calib_name.items():
        ranges[t] = r1.get(c) or r2[c]

    # Remove the Relus, pointing their consumers at the Conv output (which gets a zp=0 Q).
    for t, r in relu_of.items():
        for c in _consumers(g, r.output[0]):
            for k, v in enumerate(c.input):
                if v == r.output[0]:
                    c.input[k] = t
        g.node.remove(r)
        ranges[t] = (0.0, max(ranges[t][1], 1e-6))

    qp = {}
    new_nodes, new_inits = [], []

    def add_qdq(t, s, zp):
        sname, zname = t + "_scale", t + "_zp"
        new_inits.extend([numpy_helper.from_array(np.array(s, np.float32), sname),
                          numpy_helper.from_array(np.array(zp, np.uint8), zname)])
        src = t
        if t in outputs:  # keep the public output name on the DQ end
            src = t + "_f"
            prod_node = [n for n in g.node if t in n.output][0]
            prod_node.output[list(prod_node.output).index(t)] = src
        for c in _consumers(g, t):
            for k, v in enumerate(c.input):
                if v == t:
                    c.input[k] = t + "_dq"
        new_nodes.append(helper.make_node("QuantizeLinear", [src, sname, zname], [t + "_q"], name=t + "_Q"))
        new_nodes.append(helper.make_node("DequantizeLinear", [t + "_q", sname, zname],
                                          [t if t in outputs else t + "_dq"], name=t + "_DQ"))
        qp[t] = (s, zp)

    for t in quant:
        if t == "input":
            add_qdq(t, np.float32(1.0 / 127.5), np.uint8(128))
        else:
            add_qdq(t, *_act_qparams(*ranges[t]))
    # Flatten only reshapes: give its output the same params so ORT can drop the pair around it.
    for n in list(g.node):
        if n.op_type == "Flatten" and n.input[0].endswith("_dq"):
            add_qdq(n.output[0], *qp[n.input[0][:-3]])

    # 3. Weights int8 symmetric per output channel, biases int32.
    wmax = 63 if reduce_range else 127
    for n in list(g.node):
        if n.op_type not in ("Conv", "Gemm"):
            continue
        xin = n.input[0]
        if float_first_conv and xin == "input":
            continue
        assert xin.endswith("_dq"), "input of %s is not quantised" % n.name
        sx = float(qp[xin[:-3]][0])
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        if n.op_type == "Gemm":
            assert _attrs(n).get("transB", 0) == 1, "Gemm weight expected as [out, in]"
        amax = np.abs(w.reshape(w.shape[0], -1)).max(1)
        sw = np.maximum(amax, 1e-12) / wmax
        bshape = [-1] + [1] * (w.ndim - 1)
        qw = np.clip(np.round(w / sw.reshape(bshape)), -wmax, wmax).astype(np.int8)
        wn = n.input[1]
        new_inits += [numpy_helper.from_array(qw, wn + "_q"),
                      numpy_helper.from_array(sw.astype(np.float32), wn + "_scale"),
                      numpy_helper.from_array(np.zeros(w.shape[0], np.int8), wn + "_zp")]
        new_nodes.append(helper.make_node("DequantizeLinear", [wn + "_q", wn + "_scale", wn + "_zp"],
                                          [wn + "_dq"], name=wn + "_DQ", axis=0))
        n.input[1] = wn + "_dq"
        if len(n.input) > 2 and n.input[2]:
            bn = n.input[2]
            b = numpy_helper.to_array(inits[bn]).astype(np.float64)
            sb = (sx * sw).astype(np.float64)
            qb = np.clip(np.round(b / sb), -2**31, 2**31 - 1).astype(np.int32)
            new_inits += [numpy_helper.from_array(qb, bn + "_q"),
                          numpy_helper.from_array(sb.astype(np.float32), bn + "_scale"),
                          numpy_helper.from_array(np.zeros(w.shape[0], np.int32), bn + "_zp")]
            new_nodes.append(helper.make_node("DequantizeLinear", [bn + "_q", bn + "_scale", bn + "_zp"],
                                              [bn + "_dq"], name=bn + "_DQ", axis=0))
            n.input[2] = bn + "_dq"

    used = {x for n in list(g.node) + new_nodes for x in n.input}
    keep_inits = [i for i in g.initializer if i.name in used] + [i for i in new_inits if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep_inits)
    nodes = _toposort(list(g.node) + new_nodes, [i.name for i in g.input], [i.name for i in keep_inits])
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    onnx.checker.check_model(m)
    return m, ranges


def op_histogram(path):
    """Op type -> count of a graph file (e.g. what onnxruntime optimised it into), most frequent first."""
    if not path or not os.path.exists(path):
        return {}
    h = {}
    for n in onnx.load(path).graph.node:
        h[n.op_type] = h.get(n.op_type, 0) + 1
    return dict(sorted(h.items(), key=lambda kv: -kv[1]))


def _legacy_exporter():
    """torch >= 2.9 defaults to the dynamo exporter, whose graphs differ from what the QDQ pass
    expects; ask for the TorchScript exporter wherever the flag exists."""
    import inspect
    return {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def export_fp32(fused, example, path, output_names, dynamic_axes, doc):
    """BN-folded module -> FP32 ONNX at `path` (written beside it first, checked, no-op pads
    stripped); returns the loaded model. The reader and the detector export the same way."""
    tmp = path + ".tmp"
    torch.onnx.export(fused, example, tmp, opset_version=OPSET, input_names=["input"], output_names=output_names,
                      dynamic_axes=dynamic_axes, do_constant_folding=True, **_legacy_exporter())
    model = onnx.load(tmp)
    os.remove(tmp)
    _strip_noop_pads(model.graph)
    model.doc_string = doc
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return model
