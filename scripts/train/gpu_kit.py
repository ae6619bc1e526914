#!/usr/bin/env python3
"""Packs the reader's training data into a small folder that travels to a lent GPU machine, and
unpacks it there.

  /usr/bin/python3 -m scripts.train.gpu_kit pack            # here: -> carry/gpu-kit (git-ignored)
  python3 -m scripts.train.gpu_kit unpack --cache-dir DIR   # there (scripts/train/gpu-run does it)

The device tool carries at most 64 MiB of ignored files, and the GPU machine has neither
../shared/datasets nor this machine's fonts. The real-crop cache here is ~260 MB because scene
items keep the whole picture; the kit keeps each item's picture cropped to what the augmentation
can reach (the box, plus a plate's width each side and twice its height above and below), as
JPEG, and the TrueType fonts scripts/synth/plates.py draws with. Unpacked, it is the cache file
train_reader.py would have built on that machine, so training runs unchanged.

The kit holds third-party pictures and plate texts: it stays in the git-ignored carry/ folder,
goes only to the lent machine, and is never committed.
"""

import argparse
import os
import pickle
import shutil
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if not __package__:
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
from scripts.common.log import log  # noqa: E402
from scripts.common.paths import DEFAULT_DATASETS, REPO  # noqa: E402
from scripts.synth import plates as P  # noqa: E402
from scripts.train import reader_data as D  # noqa: E402

DEFAULT_KIT = os.path.join(REPO, "carry", "gpu-kit")
KIT_VERSION = 1
# Context kept around a scene item's box: enough for the widest jitter, rotation and perspective
# the augmentation applies (reader_data.warp_to_input pads at most 12 % x, 20 % y, then warps).
MARGIN_X, MARGIN_Y = 1.0, 2.0


def compact_item(it, quality):
    img = it["img"]
    x, y, w, h = it["box"]
    if not it.get("crop"):
        x0 = int(max(0, np.floor(x - MARGIN_X * w)))
        y0 = int(max(0, np.floor(y - MARGIN_Y * h)))
        x1 = int(min(img.shape[1], np.ceil(x + w + MARGIN_X * w)))
        y1 = int(min(img.shape[0], np.ceil(y + h + MARGIN_Y * h)))
        img = img[y0:y1, x0:x1]
        box = [x - x0, y - y0, w, h]
    else:
        box = list(it["box"])
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed for an item of %s" % it["set"])
    out = {k: v for k, v in it.items() if k != "img"}
    out.update(jpg=buf.tobytes(), box=box)
    return out


def pack(args):
    items, cache = D.load_real_cache(args.datasets, args.cache_dir, not args.no_uc3m)
    log("cache %s: %d items" % (cache, len(items)))
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(os.path.join(args.out, "fonts"))
    packed = [compact_item(it, args.quality) for it in items]
    with open(os.path.join(args.out, "real.pkl"), "wb") as f:
        pickle.dump(dict(version=KIT_VERSION, uc3m=not args.no_uc3m, items=packed), f, protocol=4)
    fonts = set()
    for key in P.FONT_FILES:
        src = P.font_path(key)
        rel = os.path.relpath(src, P.FONT_DIR)
        dst = os.path.join(args.out, "fonts", rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        fonts.add(rel)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out) for f in fs)
    log("kit -> %s: %d items, %d fonts, %.1f MiB (the device tool carries at most 64 MiB)" % (
        args.out, len(packed), len(fonts), size / 2 ** 20))
    if size > 60 * 2 ** 20:
        raise SystemExit("the kit is over 60 MiB: lower --quality")


def unpack(args):
    with open(os.path.join(args.kit, "real.pkl"), "rb") as f:
        kit = pickle.load(f)
    if kit.get("version") != KIT_VERSION:
        raise SystemExit("kit version %s, this script reads %s: pack it again" % (kit.get("version"), KIT_VERSION))
    items = []
    for it in kit["items"]:
        bgr = cv2.imdecode(np.frombuffer(it["jpg"], np.uint8), cv2.IMREAD_COLOR)
        out = {k: v for k, v in it.items() if k != "jpg"}
        out["img"] = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        items.append(out)
    # The name train_reader.py looks for on this machine (no datasets here, so no plate-swap
    # folder either: the items themselves carry the plate-swap crops).
    path = D.cache_file(args.datasets, args.cache_dir, kit["uc3m"])
    os.makedirs(args.cache_dir, exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        pickle.dump(items, f, protocol=4)
    os.replace(path + ".tmp", path)
    log("unpacked %d items -> %s" % (len(items), path))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--datasets", default=DEFAULT_DATASETS)
    p.add_argument("--cache-dir", default=os.path.join(REPO, "train-runs", "reader", "cache"))
    p.add_argument("--no-uc3m", action="store_true")
    p.add_argument("--quality", type=int, default=92)
    p.add_argument("--out", default=DEFAULT_KIT)
    u = sub.add_parser("unpack")
    u.add_argument("--kit", default=DEFAULT_KIT)
    u.add_argument("--datasets", default=DEFAULT_DATASETS)
    u.add_argument("--cache-dir", required=True, help="the training run's cache folder (OUT/cache)")
    args = ap.parse_args()
    pack(args) if args.cmd == "pack" else unpack(args)


if __name__ == "__main__":
    main()
