#!/usr/bin/env python3
"""Trains the plate reader (CTC text + US state) on synthetic + real plate crops.

  nice -n 19 /usr/bin/python3 scripts/train/train_reader.py --steps 9000 --max-minutes 150
  ... --resume            continue from <out>/last.pt (same flags)

Writes <out>/last.pt (every --ckpt-minutes and on SIGTERM/SIGINT), <out>/best.pt (best
validation score), <out>/metrics.jsonl (aggregate metrics only, never plate texts).
"""

import argparse
import json
import math
import os
import random
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

if not __package__:  # run as a file, not with -m: `scripts` is imported from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from scripts.common.checkpoints import atomic_save  # noqa: E402
from scripts.common.leave_out import check_leave_out  # noqa: E402
from scripts.common.log import log  # noqa: E402
from scripts.common.paths import DEFAULT_DATASETS, REPO  # noqa: E402
from scripts.common.seeding import seed_all, stream_seed  # noqa: E402
from scripts.common.streams import batch_loader, single_threaded  # noqa: E402
from scripts.train import reader_data as D  # noqa: E402
from scripts.train.reader_model import (STATE_CLASSES, PlateReader, count_params,  # noqa: E402
                                        greedy_decode, load_checkpoint, unfold_from_onnx)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "train-runs", "reader"))
    ap.add_argument("--datasets", default=DEFAULT_DATASETS)
    ap.add_argument("--synth-dir", default=D.DEFAULT_SYNTH_DIR)
    ap.add_argument("--steps", type=int, default=9000, help="length of the LR schedule / run")
    ap.add_argument("--batch-size", type=int, default=48)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--real-frac", type=float, default=0.4, help="share of each batch from real crops")
    ap.add_argument("--state-weight", type=float, default=0.5, help="lambda of the state CE loss")
    ap.add_argument("--no-uc3m", action="store_true", help="skip the masked Spanish crops")
    ap.add_argument("--width", type=float, default=1.0,
                    help="channel width multiplier (1.0: 0.57 M parameters, the shipped reader; 1.75: about 1.7 M)")
    ap.add_argument("--leave-out", action="append", default=[], metavar="SET",
                    help="leave-one-source-out: train and choose checkpoints without this real set (repeatable); "
                         "score the result on all of it with `npm run eval -- SET --split all`")
    ap.add_argument("--synth-new", type=int, default=8,
                    help="fresh synthetic renders per batch (the rest of the synthetic share comes "
                         "from a re-augmented pool; rendering is the data bottleneck)")
    ap.add_argument("--synth-val", type=int, default=400, help="fixed synthetic validation plates")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop (and checkpoint) after this long; 0 = no bound")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--eval-minutes", type=float, default=10.0)
    ap.add_argument("--eval-steps", type=int, default=0, help="also evaluate every N steps (0 = off)")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--lr-by-time", action="store_true",
                    help="with --max-minutes: the cosine schedule follows whichever of steps or "
                         "time is further along, so a slower machine still ends annealed")
    ap.add_argument("--init-onnx", default="",
                    help="warm start from a BN-folded FP32 export (e.g. models/reader-fp32.onnx) "
                         "when no checkpoint is resumed")
    return ap.parse_args(argv)


# ----------------------------------------------------------------------------- data stream

class BatchStream(torch.utils.data.IterableDataset):
    """Yields whole mixed batches. Built in the worker so that rendering and augmentation run
    beside the training step. Seeded from (seed, start_step, worker): a resumed run gets a fresh
    but reproducible stream, and several workers yield different batches."""

    def __init__(self, cache_path, synth_dir, batch_size, real_frac, seed, start_step, synth_new, leave_out=()):
        self.cache_path, self.synth_dir, self.synth_new = cache_path, synth_dir, synth_new
        self.leave_out = tuple(leave_out)
        self.bs, self.real_frac, self.seed, self.start_step = batch_size, real_frac, seed, start_step

    def __iter__(self):
        import pickle
        single_threaded()
        rng = random.Random(stream_seed(self.seed, self.start_step, salt=0x5EED))
        np.random.seed(rng.getrandbits(32))
        plates = D.import_synth(self.synth_dir)
        with open(self.cache_path, "rb") as f:
            items = [it for it in pickle.load(f) if it["split"] == "train" and it["set"] not in self.leave_out]
        by_set = {}
        for it in items:
            by_set.setdefault(it["set"], []).append(it)
        names = [n for n in D.REAL_SETS if n in by_set]
        weights = [D.REAL_SETS[n] for n in names]
        n_real = int(round(self.bs * self.real_frac)) if names else 0
        pool = D.SynthPool(plates, random.Random(rng.getrandbits(64)))
        while True:
            pool.refresh(self.synth_new)
            samples = []
            for _ in range(n_real):
                n = rng.choices(names, weights)[0]
                it = rng.choice(by_set[n])
                samples.append((D.real_sample(it, rng), it["text"], it["state"], D.SET_IDS[n]))
            for _ in range(self.bs - n_real):
                x, t, s = pool.sample()
                samples.append((x, t, s, 0))
            b = D.make_batch(samples)
            b["synth_rendered"] = np.asarray([pool.rendered], np.int64)
            yield {k: torch.from_numpy(v) for k, v in b.items()}


def make_loader(args, cache_path, start_step):
    ds = BatchStream(cache_path, args.synth_dir, args.batch_size, args.real_frac, args.seed, start_step,
                     args.synth_new, getattr(args, "leave_out", None) or ())
    return batch_loader(ds, args.workers)


# ----------------------------------------------------------------------------- loss / eval

def ctc_loss(log_probs, targets, target_lengths):
    """CTC where label D.WILDCARD means "some character, unknown which" (uc3m masked
    positions): its emission score is logsumexp over all non-blank classes, so the loss is the
    likelihood marginalised over the hidden character."""
    lp = log_probs.permute(1, 0, 2)  # [T, N, C]
    wild = torch.logsumexp(lp[:, :, 1:], dim=-1, keepdim=True)
    lp = torch.cat([lp, wild], dim=-1)
    n = lp.shape[1]
    in_lens = torch.full((n,), lp.shape[0], dtype=torch.long)
    return F.ctc_loss(lp, targets, in_lens, target_lengths, blank=0, reduction="mean", zero_infinity=True)


def edit_distance(a, b):
    """Levenshtein where '?' in b (a masked label position) matches any character."""
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            sub = 0 if (a[i - 1] == b[j - 1] or b[j - 1] == "?") else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + sub)
        prev = cur
    return prev[-1]


def build_val(items, plates, n_synth):
    """Fixed validation crops: real val splits with the plain eval framing + synthetic plates
    rendered from a fixed seed (independent of the training seed)."""
    val = {}
    for it in items:
        if it["split"] == "val":
            val.setdefault(it["set"], []).append((D.eval_crop(it), it["text"], it["state"]))
    if n_synth > 0 and plates is not None:
        rng = random.Random(20240611)
        val["synth"] = [D.synth_sample(plates, rng, strength=0.0) for _ in range(n_synth)]
    return val


@torch.no_grad()
def evaluate(model, val, device, bs=128):
    model.eval()
    res = {}
    for name, rows in val.items():
        exact = ed = nch = 0
        st_n = st_ok = cov = cov_ok = 0
        for i in range(0, len(rows), bs):
            chunk = rows[i:i + bs]
            x = torch.from_numpy(np.stack([r[0] for r in chunk])).to(device).float().div_(127.5).sub_(1.0)
            lp, sl = model(x)
            preds = greedy_decode(lp)
            prob = sl.softmax(-1).cpu()
            for (_, text, st), p, pr in zip(chunk, preds, prob):
                d = edit_distance(p, text)
                exact += int(d == 0 and len(p) == len(text))
                ed += min(d, len(text))  # caps a sample's errors at its length: acc stays in [0, 1]
                nch += len(text)
                if st >= 0:
                    st_n += 1
                    conf, k = pr.max(0)
                    st_ok += int(k.item() == st)
                    if conf.item() >= 0.5:
                        cov += 1
                        cov_ok += int(k.item() == st)
        r = dict(n=len(rows), exact=exact / max(1, len(rows)), char_acc=1.0 - ed / max(1, nch))
        if st_n:
            r.update(state_n=st_n, state_acc=st_ok / st_n, state_cov50=cov / st_n,
                     state_acc_cov50=cov_ok / max(1, cov))
        res[name] = r
    us = [res[n] for n in D.US_SETS if n in res]
    us_n = sum(r["n"] for r in us)
    us_exact = sum(r["exact"] * r["n"] for r in us) / max(1, us_n)
    syn = res.get("synth", {}).get("exact", 0.0)
    # US real plates are what the product is judged on; the small real val sets are noisy, so
    # the fixed synthetic set steadies the choice of best.pt.
    score = 0.7 * us_exact + 0.3 * syn if us_n else syn
    model.train()
    return dict(sets=res, us_real_exact=us_exact, score=score)


def fmt_metrics(m):
    parts = ["score %.4f us_real_exact %.3f" % (m["score"], m["us_real_exact"])]
    for n, r in m["sets"].items():
        s = "%s[n=%d exact %.3f char %.3f" % (n, r["n"], r["exact"], r["char_acc"])
        if "state_acc" in r:
            s += " state %.3f cov50 %.2f" % (r["state_acc"], r["state_cov50"])
        parts.append(s + "]")
    return " | ".join(parts)


# ----------------------------------------------------------------------------- checkpoints

def rng_state():
    s = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def set_rng_state(s):
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    torch.set_rng_state(s["torch"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def lr_lambda_factory(warmup, total):
    def f(step):
        if step < warmup:
            return (step + 1) / warmup
        p = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * p))
    return f


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    device = torch.device("cuda" if (args.device == "auto" and torch.cuda.is_available()) else
                          ("cpu" if args.device == "auto" else args.device))
    os.makedirs(args.out, exist_ok=True)
    # `$!` of a `nohup nice ... &` line can be a wrapper shell, whose death leaves us running
    # unsignalled; record our own pid for `kill -TERM $(cat <out>/train.pid)`.
    with open(os.path.join(args.out, "train.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    last_path, best_path = os.path.join(args.out, "last.pt"), os.path.join(args.out, "best.pt")
    command = "nice -n 19 /usr/bin/python3 " + " ".join(
        [os.path.relpath(os.path.abspath(sys.argv[0]), REPO)] + sys.argv[1:])

    t0 = time.time()
    items, cache_path = D.load_real_cache(args.datasets, os.path.join(args.out, "cache"), not args.no_uc3m)
    train_counts, val_counts = D.count_by_set(items, "train"), D.count_by_set(items, "val")
    log("real crops: train %s | val %s (%.1fs)" % (train_counts, val_counts, time.time() - t0))
    try:
        plates = D.import_synth(args.synth_dir)
        if sorted(getattr(plates, "STATES", [])) and set(plates.STATES) - set(STATE_CLASSES):
            log("warning: synth STATES has codes outside the state classes:",
                sorted(set(plates.STATES) - set(STATE_CLASSES)))
    except ImportError:
        log("fatal: no synthetic plate renderer at", args.synth_dir)
        sys.exit(2)
    check_leave_out(args.leave_out, D.REAL_SETS, "a real set of the reader")
    if args.leave_out:
        # Nothing of a left-out source may choose the checkpoint either: it stands for a camera never seen.
        items = [it for it in items if it["set"] not in args.leave_out]
        log("leave-one-source-out: without %s" % ", ".join(args.leave_out))
    val = build_val(items, plates, args.synth_val)
    del items  # the worker reloads the cache; keep only val crops here

    width = args.width
    if args.resume and os.path.exists(last_path):
        width = load_checkpoint(last_path).get("width", 1.0)  # a resumed run keeps its own width
    if args.init_onnx and width != 1.0:
        raise SystemExit("--init-onnx unfolds the shipped width-1.0 reader; a wider one starts from scratch")
    model = PlateReader(width).to(device)
    log("model params %d, device %s, threads %d" % (count_params(model), device, torch.get_num_threads()))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda_factory(args.warmup, args.steps))
    step, best_score, counts = 0, -1.0, dict(synth=0)
    commands, train_seconds = [], 0.0
    if args.resume and os.path.exists(last_path):
        ck = load_checkpoint(last_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        step, best_score, counts = ck["step"], ck["best_score"], ck["counts"]
        commands, train_seconds = ck.get("commands", []), ck.get("train_seconds", 0.0)
        set_rng_state(ck["rng"])
        # A resumed stream starts a new pool: count its renders on top of the earlier runs'.
        counts["synth_rendered_base"] = counts.get("synth_rendered", 0)
        log("resumed from step %d (best score %.4f)" % (step, best_score))
    elif args.resume and not args.init_onnx:
        log("no %s: starting fresh" % last_path)
    if args.init_onnx and not (args.resume and os.path.exists(last_path)):
        calib = iter(make_loader(argparse.Namespace(**dict(vars(args), workers=0)), cache_path, 10 ** 6))
        xs = [next(calib)["x"].float().div_(127.5).sub_(1.0) for _ in range(8)]
        n = unfold_from_onnx(model, args.init_onnx, xs)
        torch.set_num_threads(args.threads)  # the in-process stream set it to 1
        model.to(device)
        log("warm start from %s (%d conv+BN pairs unfolded)" % (args.init_onnx, n))
        do_eval_init = True
    else:
        do_eval_init = False
    commands.append(command)

    stop = {"flag": None}

    def on_signal(signum, _frame):
        stop["flag"] = signum  # finish the current step, then checkpoint and exit
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def checkpoint():
        atomic_save(dict(model=model.state_dict(), opt=opt.state_dict(), sched=sched.state_dict(),
                         step=step, best_score=best_score, counts=counts, rng=rng_state(),
                         args=vars(args), commands=commands, train_seconds=train_seconds,
                         train_counts=train_counts, val_counts=val_counts, width=width), last_path)

    mlog = open(os.path.join(args.out, "metrics.jsonl"), "a")

    evaluated_at = {"step": -1}

    def do_eval():
        nonlocal best_score
        if evaluated_at["step"] == step:
            return
        evaluated_at["step"] = step
        m = evaluate(model, val, device)
        m.update(step=step, time=time.strftime("%Y-%m-%dT%H:%M:%S"), train_seconds=round(train_seconds))
        mlog.write(json.dumps(m) + "\n")
        mlog.flush()
        log("eval step %d: %s" % (step, fmt_metrics(m)))
        if m["score"] > best_score:
            best_score = m["score"]
            atomic_save(dict(model=model.state_dict(), step=step, metrics=m, counts=dict(counts),
                             train_counts=train_counts, val_counts=val_counts, args=vars(args),
                             commands=list(commands), arch="PlateReader", width=width), best_path)
            log("  new best (score %.4f) -> %s" % (best_score, best_path))

    if do_eval_init:
        do_eval()  # the warm start's own score is the bar later checkpoints must beat
    loader = iter(make_loader(args, cache_path, step))
    model.train()
    run_start = last_ckpt = last_eval = time.time()
    ema = None
    win_t, win_n = time.time(), 0
    limit_s = args.max_minutes * 60 if args.max_minutes > 0 else float("inf")
    start_step = step
    while step < args.steps and stop["flag"] is None and time.time() - run_start < limit_s:
        ts = time.time()
        b = next(loader)
        x = b["x"].to(device, non_blocking=True).float().div_(127.5).sub_(1.0)
        lp, sl = model(x)
        l_ctc = ctc_loss(lp, b["targets"].to(device), b["target_lengths"].to(device))
        st = b["state"].to(device)
        l_st = F.cross_entropy(sl, st, ignore_index=-100) if (st >= 0).any() else sl.sum() * 0
        loss = l_ctc + args.state_weight * l_st
        if args.lr_by_time and limit_s < float("inf"):
            # Time already spent in this run counts against this run's budget only.
            p_time = (time.time() - run_start) / limit_s
            p_step = step / max(1, args.steps)
            eff = max(p_step, start_step / max(1, args.steps) + p_time * (1 - start_step / max(1, args.steps)))
            for g in opt.param_groups:
                g["lr"] = args.lr * lr_lambda_factory(args.warmup, args.steps)(int(eff * args.steps))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        used_lr = opt.param_groups[0]["lr"]
        sched.step()
        if args.lr_by_time and limit_s < float("inf"):
            # sched.step() has just set the step-based rate; log and keep the one this step used.
            for g in opt.param_groups:
                g["lr"] = used_lr
        step += 1
        train_seconds += time.time() - ts
        counts["synth_rendered"] = counts.get("synth_rendered_base", 0) + int(b["synth_rendered"][0])
        for sid, c in zip(*np.unique(b["set_id"].numpy(), return_counts=True)):
            k = D.ID_TO_SET[int(sid)]
            counts[k] = counts.get(k, 0) + int(c)
        win_n += x.shape[0]
        lv = (loss.item(), l_ctc.item(), l_st.item())
        ema = lv if ema is None else tuple(0.95 * e + 0.05 * v for e, v in zip(ema, lv))
        if step % args.log_every == 0 or step == start_step + 1:
            now = time.time()
            rate = win_n / max(1e-6, now - win_t)
            win_t, win_n = now, 0
            eta_steps = (args.steps - step) * args.batch_size / max(rate, 1e-6)
            eta = min(eta_steps, limit_s - (now - run_start))
            log("step %d/%d loss %.3f (ctc %.3f state %.3f) lr %.2e %.1f crops/s ETA %.1f min" % (
                step, args.steps, ema[0], ema[1], ema[2], opt.param_groups[0]["lr"], rate, eta / 60))
        now = time.time()
        if now - last_eval >= args.eval_minutes * 60 or (args.eval_steps and step % args.eval_steps == 0):
            do_eval()
            last_eval = time.time()
        if now - last_ckpt >= args.ckpt_minutes * 60:
            checkpoint()
            last_ckpt = time.time()
    why = ("signal %d" % stop["flag"]) if stop["flag"] else ("done" if step >= args.steps else "time limit")
    log("stopping at step %d (%s)" % (step, why))
    checkpoint()  # first, in case a signal's grace period is short
    if stop["flag"] is None:
        do_eval()
        checkpoint()
    log("checkpoint -> %s" % last_path)
    mlog.close()


if __name__ == "__main__":
    main()
