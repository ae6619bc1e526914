#!/usr/bin/env python3
"""Exports the plate detector: best.pt -> models/detector-fp32.onnx + models/detector-int8.onnx.

  /usr/bin/python3 scripts/export/export_detector.py [--ckpt train-runs/detector/best.pt]
  /usr/bin/python3 scripts/export/export_detector.py --from-onnx models/detector-fp32.onnx

--from-onnx re-quantises an FP32 export already shipped (no checkpoint needed): the INT8 model is
rebuilt and checked against the FP32 graph, and the manifest's training facts are kept.

The network is a plain Conv/ReLU chain, so the INT8 model comes from the same static QDQ pass as the
reader (onnx_export.quantize_qdq: int8 per-channel weights, uint8 activations calibrated on
training scenes at the working resolution, ReLUs folded into the zero point). Both heads' outputs
keep their full min/max range. The first Conv (3 input channels) stays FP32 unless
--int8-first-conv: onnxruntime's int8 kernel is slow there (3.2 ms against 1.0 ms FP32 at
1x3x384x640, one thread) and the input then needs no QuantizeLinear. Then: validation recall of fp32 vs emulated int8 in Python, speed of
both in onnxruntime-node (scripts/export/ort_time.mjs, the runtime the daemon uses), and
models/manifest.json gets the two entries.
"""

import argparse
import datetime
import json
import os
import random
import subprocess
import sys

import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
if not __package__:  # run as a file, not with -m: `scripts` is imported from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
from scripts.common.log import log  # noqa: E402
from scripts.common.paths import DEFAULT_DATASETS, REPO  # noqa: E402
from scripts.export.manifest import sha256, update_manifest  # noqa: E402
from scripts.export.onnx_export import export_fp32, op_histogram, quantize_qdq, run_graph  # noqa: E402
from scripts.train import detector_data as D  # noqa: E402
from scripts.train.detector_model import STRIDE, PlateDetector, decode  # noqa: E402
from scripts.train.reader_model import count_params, fold_bn, load_checkpoint  # noqa: E402
from scripts.train.train_detector import iou, nms  # noqa: E402


def calibration_batches(scenes, n, side, seed=99):
    """Whole training scenes at the working resolution, some with our degradations: activations
    must cover night/IR and blur as well as daylight."""
    rng = random.Random(seed)
    train = [s for s in scenes if s["split"] == "train"]
    rng.shuffle(train)
    out = []
    for s in train[:n]:
        img, _ = D.eval_image(s, side)
        if rng.random() < 0.3:
            img = D.photometric(img, rng)
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        out.append(x)
    return out


def recall(outputs, scenes, threshold):
    res = {}
    for (hl, bx), (s, boxes) in zip(outputs, scenes):
        dets = nms(decode(hl[0], bx[0], threshold))
        r = res.setdefault(s["set"], [0, 0, 0, 0])
        r[0] += 1
        r[1] += len(boxes)
        used = set()
        for b in boxes:
            cand = [(iou(b, d), i) for i, d in enumerate(dets) if i not in used]
            if cand and max(cand)[0] >= 0.5:
                used.add(max(cand)[1])
                r[2] += 1
        r[3] += len(dets) - len(used)
    return {k: dict(images=v[0], plates=v[1], recall=round(v[2] / max(1, v[1]), 4),
                    fp_per_image=round(v[3] / max(1, v[0]), 3)) for k, v in res.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(REPO, "train-runs", "detector", "best.pt"))
    ap.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--datasets", default=DEFAULT_DATASETS)
    ap.add_argument("--cache-dir", default=os.path.join(REPO, "train-runs", "detector", "cache"))
    ap.add_argument("--side", type=int, default=640, help="working resolution (long side) for calibration and checks")
    ap.add_argument("--calib", type=int, default=64, help="calibration scenes")
    ap.add_argument("--percentile", type=float, default=99.99)
    ap.add_argument("--threshold", type=float, default=0.3)
    ap.add_argument("--check", type=int, default=60,
                    help="val scenes for the torch vs emulated-INT8 recall check (the emulation is slow; "
                         "npm run eval measures both precisions in onnxruntime on every scene)")
    ap.add_argument("--no-manifest", action="store_true")
    ap.add_argument("--from-onnx", help="re-quantise this FP32 export instead of exporting --ckpt")
    ap.add_argument("--int8-first-conv", action="store_true", help="quantise the first Conv too (slower in onnxruntime)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    export_cmd = "/usr/bin/python3 " + " ".join([os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + sys.argv[1:])

    fp32_path = os.path.join(args.models_dir, "detector-fp32.onnx")
    int8_path = os.path.join(args.models_dir, "detector-int8.onnx")
    if args.from_onnx:
        ck, model = None, None
        fp32 = onnx.load(args.from_onnx)
        if os.path.abspath(args.from_onnx) != os.path.abspath(fp32_path):
            onnx.save(fp32, fp32_path)
        log("fp32 <- %s" % args.from_onnx)
    else:
        ck = load_checkpoint(args.ckpt)
        model = PlateDetector(ck.get("width", 1.0))
        model.load_state_dict(ck["model"])
        model.eval()
        fused = fold_bn(model)
        fp32 = export_fp32(fused, torch.zeros(1, 3, 384, 640), fp32_path, ["heat", "box"],
                           {"input": {0: "N", 2: "H", 3: "W"}, "heat": {0: "N", 2: "h", 3: "w"}, "box": {0: "N", 2: "h", 3: "w"}},
                           "alpr-edge plate detector fp32; heat = centre logits [N,1,H/8,W/8]; box = dx,dy,log(w/8),log(h/8)")
        log("fp32 -> %s (%d bytes, %d params)" % (fp32_path, os.path.getsize(fp32_path), count_params(model)))

    scenes = D.load_scene_cache(args.datasets, args.cache_dir)
    calib = calibration_batches(scenes, args.calib, args.side)
    q, _ = quantize_qdq(fp32, calib, args.percentile, float_first_conv=not args.int8_first_conv)
    q.doc_string = "alpr-edge plate detector INT8 QDQ (per-channel int8 weights, uint8 activations); outputs as fp32"
    onnx.save(q, int8_path)
    log("int8 -> %s (%d bytes)" % (int8_path, os.path.getsize(int8_path)))

    # Validation recall: torch vs emulated QDQ graph, on every labelled val scene.
    val = [s for s in scenes if s["split"] == "val" and len(s["boxes"])]
    val = val[::max(1, len(val) // max(1, args.check))][:args.check]
    imgs = [D.eval_image(s, args.side) for s in val]
    outs = {"torch": [], "int8_emulated": []}
    with torch.no_grad():
        for k, (img, _) in enumerate(imgs):
            x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1.0
            if model is not None:
                outs["torch"].append(model(x))
            else:
                o = run_graph(fp32, {"input": x})
                outs["torch"].append((o["heat"], o["box"]))
            o = run_graph(q, {"input": x})
            outs["int8_emulated"].append((o["heat"], o["box"]))
            if (k + 1) % 50 == 0:
                log("check %d/%d" % (k + 1, len(imgs)))
    pairs = list(zip(val, [b for _, b in imgs]))
    report = {tag: recall(o, pairs, args.threshold) for tag, o in outs.items()}
    log(json.dumps(report, indent=1))

    timing = None
    r = subprocess.run(["node", os.path.join(HERE, "ort_time.mjs"), "--shape", "1,3,384,640", fp32_path, int8_path],
                       cwd=REPO, capture_output=True, text=True)
    if r.returncode == 0:
        timing = json.loads(r.stdout)
        for mp, t in timing.items():
            t["optimized_ops"] = op_histogram(t.pop("optimized_path", None))
        log(json.dumps(timing, indent=1))
    else:
        log("ort timing failed:", r.stderr[-1500:])
    if args.no_manifest:
        return
    manifest_path = os.path.join(args.models_dir, "manifest.json")
    if args.from_onnx:
        update_manifest(manifest_path, requantised_entries(manifest_path, int8_path, fp32_path, report, timing, export_cmd,
                                                           not args.int8_first_conv))
        log("manifest updated")
        return
    step = ck.get("step")
    common = dict(
        source="trained by this project: scripts/train/train_detector.py, exported by scripts/export/export_detector.py",
        inputShape=[1, 3, "H (multiple of 32)", "W (multiple of 32)"],
        inputName="input",
        workingMaxSide=args.side,
        stride=STRIDE,
        preprocess="frame resized so its long side = workingMaxSide (at most 2x up), RGB, NCHW, px/127.5-1, "
                   "padded right/bottom to a multiple of 32 with -1",
        outputs=[dict(name="heat", shape=[1, 1, "H/8", "W/8"], kind="raw_logits",
                      note="sigmoid = probability that a plate centre lies in the cell; peaks = 3x3 local maxima"),
                 dict(name="box", shape=[1, 4, "H/8", "W/8"], kind="regression",
                      note="dx, dy: centre offset in the cell (cells); log(w/8), log(h/8)")],
        decode=dict(threshold=args.threshold, nmsIou=0.3),
        parameters=count_params(model),
        trainingData=dict(
            sets={k: "train split scenes" for k in D.SCENE_SETS},
            synthetic="our own US plates (scripts/synth/plates.py) pasted with perspective, 0-3 per crop",
            steps=step, batchSize=ck.get("args", {}).get("batch_size"), cropSize=ck.get("args", {}).get("size"),
            trainCommand="nice -n 5 /usr/bin/python3 scripts/train/train_detector.py " + " ".join(
                "--%s %s" % (k.replace("_", "-"), v) for k, v in (ck.get("args") or {}).items()
                if k in ("steps", "size", "batch_size", "lr", "seed", "width", "max_minutes", "threads", "eval_every"))),
        validation=dict(step=step, iouThreshold=0.5, scoreThreshold=args.threshold, side=args.side,
                        fp32=report["torch"], int8_emulated=report["int8_emulated"]),
        exportCommand=export_cmd,
        date=datetime.date.today().isoformat(),
    )
    entries = []
    for name, path, prec in (("detector-int8", int8_path, "int8-qdq"), ("detector-fp32", fp32_path, "fp32")):
        e = dict(name=name, kind="detector", architecture="alpr-edge-centernet", version="1.0-step%s" % step,
                 precision=prec, file=os.path.relpath(path, REPO), sha256=sha256(path), bytes=os.path.getsize(path))
        e.update(common)
        if timing and path in timing:
            e["speed"] = speed_entry(timing[path])
        entries.append(e)
    update_manifest(manifest_path, entries)
    log("manifest updated")


def requantised_entries(manifest_path, int8_path, fp32_path, report, timing, export_cmd, float_first):
    """The shipped pair's entries with the new INT8 file, its check and its speed; what the
    training made (version, data, FP32 validation) is unchanged."""
    with open(manifest_path) as f:
        shipped = {m["name"]: m for m in json.load(f)["models"]}
    out = []
    for name, path in (("detector-int8", int8_path), ("detector-fp32", fp32_path)):
        e = dict(shipped[name])
        e.update(file=os.path.relpath(path, REPO), sha256=sha256(path), bytes=os.path.getsize(path))
        if name == "detector-int8":
            e["validation"] = dict(e["validation"], int8_emulated=report["int8_emulated"])
            e["requantized"] = dict(command=export_cmd, date=datetime.date.today().isoformat(),
                                    firstConv="fp32" if float_first else "int8")
        if timing and path in timing:
            e["speed"] = speed_entry(timing[path])
        out.append(e)
    return out


def speed_entry(t):
    return dict(msPerFrame384x640OneThread=round(t["ms_per_frame"], 2), optimizedOps=t["optimized_ops"])


if __name__ == "__main__":
    main()
