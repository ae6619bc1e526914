#!/usr/bin/env python3
"""Weight interpolation between two readers of one lineage (WiSE-FT, Wortsman et al. 2022).

  /usr/bin/python3 scripts/train/interpolate_reader.py --a models/reader-fp32.onnx \
      --b models/checkpoints/reader-last.pt --alpha 0.5 --out train-runs/reader-mix/a50.pt

A fine-tune that learns new failure kinds (plate swaps: stacked letters, dealer frames) tends to
lose a little of what its starting point knew (the real crops). When both share a starting point
(`--init-onnx` continued the shipped reader), the straight line between their weights usually
keeps most of both: the fine-tune's gain under shift without the forgetting. Alpha is chosen on
val like any other checkpoint choice.

Both ends are compared BN-folded (what the export and the camera run), so a BN layer's running
statistics and its conv's weight move together. Either end may be a BN-folded FP32 ONNX export
or a training checkpoint (.pt). The result is a checkpoint that export_reader.py takes as it
takes a trained one: each conv holds the mixed folded weight, its BN is the identity.
"""

import argparse
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
if not __package__:
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
from scripts.common.log import log  # noqa: E402
from scripts.export.manifest import sha256  # noqa: E402
from scripts.train.reader_model import PlateReader, fold_bn, load_checkpoint  # noqa: E402


def folded_params(path):
    """{name: tensor} of the BN-folded network, names as in our ONNX export (conv `x.0.weight`,
    `x.0.bias`; heads by their module names). Returns (params, width, source checkpoint or None)."""
    if path.endswith(".onnx"):
        import onnx
        from onnx import numpy_helper
        params = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
                  for t in onnx.load(path).graph.initializer}
        return params, 1.0, None
    ck = load_checkpoint(path)
    model = PlateReader(ck.get("width", 1.0))
    model.load_state_dict(ck["model"])
    fused = fold_bn(model.eval())
    return {k: v.detach().clone() for k, v in fused.state_dict().items()}, ck.get("width", 1.0), ck


def mixed_model(pa, pb, alpha, width):
    """A trainable PlateReader whose folded form is (1 - alpha) * a + alpha * b."""
    model = PlateReader(width).eval()
    folded = set()  # Conv+BN modules, whose parameters are set from the mixed folded weights
    with torch.no_grad():
        def rec(prefix, mod):
            for name, child in mod.named_children():
                full = prefix + name
                if isinstance(child, torch.nn.Sequential) and len(child) >= 2 \
                        and isinstance(child[0], torch.nn.Conv2d) and isinstance(child[1], torch.nn.BatchNorm2d):
                    w = (1 - alpha) * pa[full + ".0.weight"] + alpha * pb[full + ".0.weight"]
                    b = (1 - alpha) * pa[full + ".0.bias"] + alpha * pb[full + ".0.bias"]
                    child[0].weight.copy_(w)
                    bn = child[1]
                    bn.running_mean.zero_()
                    bn.running_var.fill_(1.0)
                    bn.weight.fill_(math.sqrt(1.0 + bn.eps))
                    bn.bias.copy_(b)
                    folded.add(full + ".")
                else:
                    rec(full + ".", child)
        rec("", model)
        for k, v in model.named_parameters():
            if any(k.startswith(prefix) for prefix in folded):
                continue
            if k not in pa or k not in pb:
                raise SystemExit("%s missing from one end" % k)
            if pa[k].shape != v.shape or pb[k].shape != v.shape:
                raise SystemExit("%s: shapes differ (%s, %s, %s)" % (k, tuple(pa[k].shape), tuple(pb[k].shape), tuple(v.shape)))
            v.copy_((1 - alpha) * pa[k] + alpha * pb[k])
    return model


def git_commit(path):
    """The last commit that holds this file as it is, so the mix can be rebuilt after the shipped
    file is replaced (`git show COMMIT:PATH`); None when the file is not committed unchanged."""
    import subprocess
    try:
        if subprocess.run(["git", "diff", "--quiet", "HEAD", "--", path], capture_output=True).returncode != 0:
            return None
        r = subprocess.run(["git", "log", "-1", "--format=%H", "--", path], capture_output=True, text=True)
        return r.stdout.strip() or None
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="alpha = 0 end: reader-fp32.onnx or a .pt checkpoint")
    ap.add_argument("--b", required=True, help="alpha = 1 end: reader-fp32.onnx or a .pt checkpoint")
    ap.add_argument("--alpha", type=float, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if not 0.0 <= args.alpha <= 1.0:
        raise SystemExit("--alpha must be in [0, 1]")
    pa, wa, _ = folded_params(args.a)
    pb, wb, ckb = folded_params(args.b)
    if wa != wb:
        raise SystemExit("the two readers have different widths (%s, %s): no straight line between them" % (wa, wb))
    model = mixed_model(pa, pb, args.alpha, wa)
    # Self-check: folding the mixed network gives back the mixed weights.
    again = fold_bn(model).state_dict()
    worst = max(float((again[k] - ((1 - args.alpha) * pa[k] + args.alpha * pb[k])).abs().max())
                for k in again if k in pa and k in pb)
    log("alpha %.2f: %d tensors mixed, fold round trip max |d| %.1e" % (args.alpha, len(again), worst))
    if worst > 1e-4:
        raise SystemExit("fold round trip differs by %.1e" % worst)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    cmd = "/usr/bin/python3 scripts/train/interpolate_reader.py --a %s --b %s --alpha %s --out %s" % (
        args.a, args.b, args.alpha, args.out)
    a_commit = git_commit(args.a)
    if a_commit:
        cmd += "  # --a as of commit %s (git show %s:%s)" % (a_commit[:12], a_commit[:12], os.path.relpath(os.path.abspath(args.a)))
    meta = {k: ckb[k] for k in ("counts", "train_counts", "val_counts", "args") if ckb and k in ckb}
    commands = list(ckb.get("commands", [])) if ckb else []
    torch.save(dict(model=model.state_dict(), width=wa, step=0, commands=commands + [cmd],
                    interpolation=dict(a=args.a, b=args.b, alpha=args.alpha, b_step=ckb.get("step") if ckb else None,
                                       a_sha256=sha256(args.a), a_commit=a_commit),
                    **meta), args.out)
    log("-> %s" % args.out)


if __name__ == "__main__":
    main()
