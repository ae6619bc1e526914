#!/usr/bin/env python3
"""Exports the plate reader: best.pt -> models/reader-fp32.onnx + models/reader-int8.onnx.

  /usr/bin/python3 scripts/export/export_reader.py [--ckpt train-runs/reader/best.pt]

INT8 is static QDQ quantisation built here with python3-onnx alone (no onnxruntime python
package exists on this machine):
  - weights of every Conv/Gemm: int8, symmetric, per output channel; biases int32 with
    scale = input_scale * weight_scale, so onnxruntime fuses DQ->Conv->Q into QLinearConv.
  - activations: uint8 per tensor, ranges calibrated on --calib crops (half synthetic, half real
    train-split crops, augmented like training). ReLUs are dropped: a uint8 Q with zero point 0
    clamps negatives, which is exactly ReLU, and it lets the Conv fuse.
Calibration and the numeric checks run the ONNX graphs with a small torch-based executor
(`run_graph`), then the final models are checked with onnxruntime-node (scripts/export/
ort_check.mjs) when node_modules has it. Finally models/manifest.json gets our two entries.
"""

import argparse
import datetime
import hashlib
import json
import os
import pickle
import random
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "train"))
import reader_data as D  # noqa: E402
from reader_model import (CHARSET, IN_H, IN_W, NUM_CLASSES, NUM_STATES, STATE_CLASSES,  # noqa: E402
                          T_STEPS, PlateReader, count_params, fold_bn, greedy_decode,
                          load_checkpoint)

OPSET = 13


def log(*a):
    print(*a, file=sys.stderr, flush=True)


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


# ----------------------------------------------------------------------------- data

def calibration_batches(cache_items, synth_dir, n, seed=77, bs=50):
    """Half synthetic, half real train-split crops, augmented like training (activations must
    cover what the camera will show, not only clean crops)."""
    rng = random.Random(seed)
    np.random.seed(seed)
    train = [it for it in cache_items if it["split"] == "train"]
    plates = D.import_synth(synth_dir)
    xs = []
    for k in range(n):
        if k % 2 == 0 and train:
            xs.append(D.real_sample(rng.choice(train), rng))
        else:
            xs.append(D.synth_sample(plates, rng)[0])
    xs = np.stack(xs).astype(np.float32) / 127.5 - 1.0
    return [torch.from_numpy(xs[i:i + bs]) for i in range(0, n, bs)]


def val_rows(cache_items, synth_dir, n_synth):
    val = {}
    for it in cache_items:
        if it["split"] == "val":
            val.setdefault(it["set"], []).append((D.eval_crop(it), it["text"], it["state"]))
    if n_synth:
        rng = random.Random(20240611)  # same fixed synthetic val set as train_reader.py
        val["synth"] = [D.synth_sample(D.import_synth(synth_dir), rng, strength=0.0) for _ in range(n_synth)]
    return val


def metrics_from_outputs(val, logits, state):
    """val: {set: rows}; logits/state: {set: np arrays}. Aggregate metrics only."""
    from train_reader import edit_distance
    res = {}
    for name, rows in val.items():
        preds = greedy_decode(torch.from_numpy(logits[name]))
        prob = torch.from_numpy(state[name]).softmax(-1)
        exact = ed = nch = st_n = st_ok = 0
        for (_, text, st), p, pr in zip(rows, preds, prob):
            d = edit_distance(p, text)
            exact += int(d == 0 and len(p) == len(text))
            ed += min(d, len(text))
            nch += len(text)
            if st >= 0:
                st_n += 1
                st_ok += int(int(pr.argmax()) == st)
        r = dict(n=len(rows), exact=round(exact / max(1, len(rows)), 4),
                 char_acc=round(1 - ed / max(1, nch), 4))
        if st_n:
            r.update(state_n=st_n, state_acc=round(st_ok / st_n, 4))
        res[name] = r
    return res


# ----------------------------------------------------------------------------- ORT check

def ort_check(models, x, workdir):
    """Runs the models with onnxruntime-node (the runtime the daemon uses). Returns
    {model_path: dict(logits, state, ms_per_plate, optimized_ops)} or None if unavailable."""
    if not os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")):
        log("onnxruntime-node not installed: skipping the ORT check")
        return None
    os.makedirs(workdir, exist_ok=True)
    inp = os.path.join(workdir, "input.f32")
    x.astype(np.float32).tofile(inp)
    cmd = ["node", os.path.join(HERE, "ort_check.mjs"), "--input", inp, "--n", str(x.shape[0]),
           "--out", workdir] + models
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        log("ort_check failed:", r.stderr[-2000:])
        return None
    info = json.loads(r.stdout)
    res = {}
    for mp in models:
        base = os.path.join(workdir, os.path.basename(mp))
        info[mp]["optimized_ops"] = _op_histogram(info[mp].get("optimized_path"))
        res[mp] = dict(logits=np.fromfile(base + ".logits.f32", np.float32).reshape(x.shape[0], T_STEPS, NUM_CLASSES),
                       state=np.fromfile(base + ".state.f32", np.float32).reshape(x.shape[0], NUM_STATES),
                       **info[mp])
    return res


def _op_histogram(path):
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


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def update_manifest(path, entries):
    """Read-modify-write: only entries whose name we own are replaced; the rest (the TS
    engineer's interim models) are left untouched and in place."""
    data = {"models": []}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
        data.setdefault("models", [])
    names = {e["name"] for e in entries}
    kept = [m for m in data["models"] if m.get("name") not in names]
    data["models"] = kept + entries
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(REPO, "train-runs", "reader", "best.pt"))
    ap.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--datasets", default=D.DEFAULT_DATASETS)
    ap.add_argument("--synth-dir", default=D.DEFAULT_SYNTH_DIR)
    ap.add_argument("--cache-dir", default=os.path.join(REPO, "train-runs", "reader", "cache"))
    ap.add_argument("--calib", type=int, default=400, help="calibration crops (half synthetic, half real)")
    ap.add_argument("--percentile", type=float, default=99.99, help="activation range percentile; 100 = min/max")
    ap.add_argument("--reduce-range", action="store_true",
                    help="7-bit weights, for x86 CPUs without VNNI where u8s8 kernels can saturate")
    ap.add_argument("--synth-val", type=int, default=400)
    ap.add_argument("--name-prefix", default="reader")
    ap.add_argument("--no-manifest", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    export_cmd = "/usr/bin/python3 " + " ".join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + sys.argv[1:])

    ck = load_checkpoint(args.ckpt)
    model = PlateReader(ck.get("width", 1.0))
    model.load_state_dict(ck["model"])
    model.eval()
    fused = fold_bn(model)
    os.makedirs(args.models_dir, exist_ok=True)
    fp32_path = os.path.join(args.models_dir, args.name_prefix + "-fp32.onnx")
    int8_path = os.path.join(args.models_dir, args.name_prefix + "-int8.onnx")
    fp32 = export_fp32(fused, torch.zeros(1, 3, IN_H, IN_W), fp32_path, ["logits", "state_logits"],
                       {"input": {0: "N"}, "logits": {0: "N"}, "state_logits": {0: "N"}},
                       "alpr-edge plate reader fp32; logits = log-softmax [N,40,37], blank=0; state_logits raw [N,52]")
    log("fp32 -> %s (%d bytes, %d params)" % (fp32_path, os.path.getsize(fp32_path), count_params(model)))

    items, _ = D.load_real_cache(args.datasets, args.cache_dir, True)
    calib = calibration_batches(items, args.synth_dir, args.calib)
    q, ranges = quantize_qdq(fp32, calib, args.percentile, args.reduce_range)
    q.doc_string = "alpr-edge plate reader INT8 QDQ (per-channel int8 weights, uint8 activations); " \
                   "logits = log-softmax [N,40,37], blank=0; state_logits raw [N,52]"
    onnx.save(q, int8_path)
    log("int8 -> %s (%d bytes, %d QuantizeLinear)" % (
        int8_path, os.path.getsize(int8_path), sum(n.op_type == "QuantizeLinear" for n in q.graph.node)))

    # Numeric checks: torch model vs fp32 graph vs QDQ graph (emulated) on the val crops.
    val = val_rows(items, args.synth_dir, args.synth_val)
    order = list(val)
    X = np.concatenate([np.stack([r[0] for r in val[n]]) for n in order]).astype(np.float32) / 127.5 - 1.0
    with torch.no_grad():
        ref = torch.cat([model(torch.from_numpy(X[i:i + 256]))[0] for i in range(0, len(X), 256)]).numpy()
    outs = {}
    for tag, mp in (("fp32", fp32), ("int8_emulated", q)):
        lo, st = [], []
        for i in range(0, len(X), 256):
            o = run_graph(mp, {"input": torch.from_numpy(X[i:i + 256])})
            lo.append(o["logits"].numpy())
            st.append(o["state_logits"].numpy())
        outs[tag] = (np.concatenate(lo), np.concatenate(st))
    log("torch vs fp32 graph: max |d logprob| %.2e" % np.abs(ref - outs["fp32"][0]).max())

    ort = ort_check([fp32_path, int8_path], X, os.path.join(REPO, "train-runs", "reader", "export-check"))
    if ort:
        outs["fp32_ort"] = (ort[fp32_path]["logits"], ort[fp32_path]["state"])
        outs["int8_ort"] = (ort[int8_path]["logits"], ort[int8_path]["state"])

    def split(arr):
        res, k = {}, 0
        for n in order:
            res[n] = arr[k:k + len(val[n])]
            k += len(val[n])
        return res

    report = {}
    for tag, (lo, st) in outs.items():
        report[tag] = metrics_from_outputs(val, split(lo), split(st))
    base = outs["fp32_ort"] if ort else outs["fp32"]
    for tag in [t for t in outs if t.startswith("int8")]:
        lo, st = outs[tag]
        pa = greedy_decode(torch.from_numpy(base[0]))
        pb = greedy_decode(torch.from_numpy(lo))
        agree = sum(a == b for a, b in zip(pa, pb)) / len(pa)
        sagree = float((base[1].argmax(1) == st.argmax(1)).mean())
        dl = np.abs(np.exp(base[0]) - np.exp(lo))
        log("%s vs fp32: decoded-text agreement %.4f, state argmax agreement %.4f, "
            "max |d prob| %.3f, mean |d prob| %.5f, max |d logprob| %.3f" % (
                tag, agree, sagree, dl.max(), dl.mean(), np.abs(base[0] - lo).max()))
        report[tag + "_vs_fp32"] = dict(text_agreement=round(agree, 4), state_agreement=round(sagree, 4),
                                        max_abs_prob_diff=round(float(dl.max()), 4))
    for tag in outs:
        r = report[tag]
        log("%-14s %s" % (tag, " | ".join("%s exact %.3f char %.3f%s" % (
            n, v["exact"], v["char_acc"], (" state %.3f" % v["state_acc"]) if "state_acc" in v else "")
            for n, v in r.items())))
    if ort:
        for mp in (fp32_path, int8_path):
            log("ORT %s: %.3f ms/plate (1 thread, batch 1); optimized graph ops: %s" % (
                os.path.basename(mp), ort[mp]["ms_per_plate"], ort[mp]["optimized_ops"]))

    if args.no_manifest:
        return
    m = ck.get("metrics", {})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    mpath = os.path.join(args.models_dir, "manifest.json")
    # A run warm-started from a shipped model (--init-onnx) continues that model: its version and
    # training commands carry the earlier run's, read before this export replaces the entries.
    version, lineage = "1.0-step%s" % ck.get("step"), []
    init = (ck.get("args") or {}).get("init_onnx")
    if init and os.path.exists(mpath):
        with open(mpath) as f:
            for old_entry in json.load(f).get("models", []):
                if os.path.abspath(os.path.join(REPO, old_entry.get("file", ""))) == os.path.abspath(init):
                    version = "%s+%s" % (old_entry.get("version", "?"), ck.get("step"))
                    lineage = old_entry.get("trainCommands", [])
    counts = ck.get("counts", {})
    common = dict(
        inputShape=[1, 3, IN_H, IN_W], inputName="input", batchDynamic=True,
        preprocess="plate box (+~4% x / 8% y padding) stretched to 160x48, bilinear, RGB, NCHW, px/127.5-1",
        outputs=[dict(name="logits", shape=[1, T_STEPS, NUM_CLASSES], kind="log_softmax",
                      note="CTC, blank index 0, class k>0 = charset[k-1]; greedy: argmax, collapse repeats, drop blanks"),
                 dict(name="state_logits", shape=[1, NUM_STATES], kind="raw_logits",
                      note="softmax yourself; last class 'unknown' = non-US / unrecognised")],
        charset=CHARSET, blankIndex=0, states=STATE_CLASSES,
        trainingData=dict(
            sets={k: dict(trainCrops=ck.get("train_counts", {}).get(k, 0), samplesSeen=counts.get(k, 0))
                  for k in D.REAL_SETS},
            syntheticSamples=counts.get("synth", 0),
            syntheticRendered=counts.get("synth_rendered", 0),
            syntheticGenerator="scripts/synth/plates.py render_plate(degrade=True)",
            notes="uc3m-lp: CTC with a wildcard label at the masked positions; two-row plates skipped. "
                  "ucsd-ca and uc3m-lp are non-commercial: shipping needs steering-team clearance."),
        validation=dict(step=ck.get("step"), trainSelectionScore=m.get("score"),
                        splits="source split where present, else sha1(file name) % 10 == 0"),
        date=now, trainCommands=lineage + ck.get("commands", []), exportCommand=export_cmd, interim=False)
    entries = []
    for name, path, tag in ((args.name_prefix + "-int8", int8_path, "int8_ort" if ort else "int8_emulated"),
                            (args.name_prefix + "-fp32", fp32_path, "fp32_ort" if ort else "fp32")):
        e = dict(name=name, kind="reader", architecture="alpr-edge-ctc-convnet+state-head",
                 version=version, precision="int8-qdq" if "int8" in name else "fp32",
                 file=os.path.relpath(path, REPO), sha256=sha256(path), bytes=os.path.getsize(path),
                 source="trained by this project: scripts/train/train_reader.py, exported by "
                        "scripts/export/export_reader.py", **json.loads(json.dumps(common)))
        e["validation"]["metrics"] = report[tag]
        e["validation"]["measuredWith"] = tag
        if ort:
            e["validation"]["msPerPlate1Thread"] = round(ort[path]["ms_per_plate"], 3)
        if "int8" in name and (tag + "_vs_fp32") in report:
            e["validation"]["vsFp32"] = report[tag + "_vs_fp32"]
        entries.append(e)
    update_manifest(mpath, entries)
    log("manifest -> %s" % mpath)


if __name__ == "__main__":
    main()
