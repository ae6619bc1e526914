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
import json
import os
import random
import subprocess
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
if not __package__:  # run as a file, not with -m: `scripts` is imported from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
from scripts.common.log import log  # noqa: E402
from scripts.common.paths import DEFAULT_DATASETS, REPO  # noqa: E402
from scripts.export.manifest import sha256, update_manifest  # noqa: E402
from scripts.export.onnx_export import export_fp32, op_histogram, quantize_qdq, run_graph  # noqa: E402
from scripts.train import reader_data as D  # noqa: E402
from scripts.train.reader_model import (CHARSET, IN_H, IN_W, NUM_CLASSES, NUM_STATES, STATE_CLASSES,  # noqa: E402
                                        T_STEPS, PlateReader, count_params, fold_bn, greedy_decode,
                                        load_checkpoint)


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
    from scripts.train.train_reader import edit_distance
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
        info[mp]["optimized_ops"] = op_histogram(info[mp].get("optimized_path"))
        res[mp] = dict(logits=np.fromfile(base + ".logits.f32", np.float32).reshape(x.shape[0], T_STEPS, NUM_CLASSES),
                       state=np.fromfile(base + ".state.f32", np.float32).reshape(x.shape[0], NUM_STATES),
                       **info[mp])
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(REPO, "train-runs", "reader", "best.pt"))
    ap.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--datasets", default=DEFAULT_DATASETS)
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
    # A leave-one-source-out model never sees its left-out set, not even to calibrate its ranges.
    left_out = set((ck.get("args") or {}).get("leave_out") or ())
    if left_out:
        log("calibrating without %s (the checkpoint's --leave-out)" % ", ".join(sorted(left_out)))
    calib = calibration_batches([it for it in items if it["set"] not in left_out], args.synth_dir, args.calib)
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
    # A weight mix (scripts/train/interpolate_reader.py) of the shipped reader and a fine-tune of
    # it continues the shipped reader too: its version, then the fine-tune's steps and the weight.
    version, lineage = "1.0-step%s" % ck.get("step"), []
    init = (ck.get("args") or {}).get("init_onnx")
    mix = ck.get("interpolation")
    old_entries = []
    if (init or mix) and os.path.exists(mpath):
        with open(mpath) as f:
            old_entries = json.load(f).get("models", [])
    for old_entry in old_entries:
        old_file = os.path.abspath(os.path.join(REPO, old_entry.get("file", "")))
        if mix and old_file == os.path.abspath(mix["a"]) and old_entry.get("sha256") == mix.get("a_sha256"):
            version = "%s+mix%.2f(+%s)" % (old_entry.get("version", "?"), mix["alpha"], mix.get("b_step"))
        elif not mix and init and old_file == os.path.abspath(init):
            version = "%s+%s" % (old_entry.get("version", "?"), ck.get("step"))
        else:
            continue
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
        validation=dict(step=(mix or {}).get("b_step", ck.get("step")), trainSelectionScore=m.get("score"),
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
