"""Data for the plate reader: real crops from ../shared/datasets, synthetic plates, augmentation.

Privacy: plate texts of the real sets live only in memory and in the cache under train-runs/
(git-ignored). Nothing here prints a plate text or a file name of a real image.
"""

import importlib.util
import json
import math
import os
import pickle

import cv2
import numpy as np

from scripts.common.images import imread_rgb
from scripts.common.paths import REPO
from scripts.common.splits import norm_split
from scripts.train.reader_model import CHARSET, IN_H, IN_W, region_to_state

DEFAULT_SYNTH_DIR = os.path.join(REPO, "scripts", "synth")

WILDCARD = len(CHARSET) + 1  # extra CTC label (37) = "any character", for masked positions
CACHE_VERSION = 5  # 4: val/test halves of the held-out images; 5: plate-swap when made

# Real sets used for reading. Sampling weights favour the US sets: the product reads US plates;
# the non-US sets are there for the `unknown` state class and glyph variety.
REAL_SETS = {
    "openalpr-us-crops": 0.35,
    "ucsd-ca": 0.30,
    "uc3m-lp": 0.15,
    "openalpr-eu": 0.15,
    "openalpr-br": 0.05,
}
US_SETS = ("openalpr-us-crops", "ucsd-ca")
# Made here, not shared: real scenes with our synthetic US plates swapped in
# (scripts/synth/plate_swap.py). Used when the folder exists; its split is its source scene's.
PLATE_SWAP_DIR = os.path.join(REPO, "data", "plate-swap")
GENERATED_SETS = {"plate-swap": PLATE_SWAP_DIR}
REAL_SETS["plate-swap"] = 0.20


def set_root(datasets_dir, set_name):
    """A set's folder, or None for a generated set that has not been made."""
    root = GENERATED_SETS.get(set_name) or os.path.join(datasets_dir, set_name)
    if set_name in GENERATED_SETS and not os.path.exists(os.path.join(root, "labels.jsonl")):
        return None
    return root


def _valid_text(t, allow_wild=False):
    ok = CHARSET + ("?" if allow_wild else "")
    return bool(t) and len(t) <= 12 and all(c in ok for c in t)


def build_real_items(datasets_dir, use_uc3m=True):
    """Returns a list of dicts: set, split, img (RGB uint8, context around the plate), box
    [x, y, w, h] of the plate inside img, text ('?' = masked), state (class idx or -1)."""
    items = []
    for set_name in REAL_SETS:
        if set_name == "uc3m-lp" and not use_uc3m:
            continue
        root = set_root(datasets_dir, set_name)
        if root is None:
            continue
        with open(os.path.join(root, "labels.jsonl")) as f:
            entries = [json.loads(l) for l in f if l.strip()]
        for e in entries:
            split = norm_split(e)
            if set_name == "uc3m-lp":
                if e["kind"] != "crop":
                    continue  # scenes are 320 px: plates far too small to read
                p = e["plates"][0]
                # Two-row (type B) plates cannot be read left-to-right by a 1-row CTC head.
                if p.get("uc3m_code", "A")[0] == "B" or not _valid_text(p.get("text_masked"), True):
                    continue
                img = imread_rgb(os.path.join(root, e["image"]))
                items.append(dict(set=set_name, split=split, img=img,
                                  box=[0, 0, img.shape[1], img.shape[0]], crop=True,
                                  text=p["text_masked"], state=_state(p)))
                continue
            img = None
            for p in e["plates"]:
                if not _valid_text(p.get("text")):
                    continue
                if img is None:
                    img = imread_rgb(os.path.join(root, e["image"]))
                if e["kind"] == "crop":
                    items.append(dict(set=set_name, split=split, img=img,
                                      box=[0, 0, img.shape[1], img.shape[0]], crop=True,
                                      text=p["text"], state=_state(p)))
                else:
                    ctx, box = _context_crop(img, p["box"])
                    items.append(dict(set=set_name, split=split, img=ctx, box=box, crop=False,
                                      text=p["text"], state=_state(p)))
    return items


def _state(p):
    s = region_to_state(p.get("region"))
    return -1 if s is None else s


def _context_crop(img, box, margin=0.35, max_w=480):
    """Keeps the plate plus a margin (so box jitter has real pixels to pad with), scaled so
    the plate is at most max_w/(1+2*margin) px wide to bound memory."""
    x, y, w, h = [float(v) for v in box]
    H, W = img.shape[:2]
    x0, y0 = max(0, int(x - margin * w)), max(0, int(y - margin * h * 2))
    x1, y1 = min(W, int(math.ceil(x + w + margin * w))), min(H, int(math.ceil(y + h + margin * h * 2)))
    ctx = img[y0:y1, x0:x1]
    b = [x - x0, y - y0, w, h]
    sc = min(1.0, max_w / max(1, ctx.shape[1]))
    if sc < 1.0:
        ctx = cv2.resize(ctx, (max(1, int(ctx.shape[1] * sc)), max(1, int(ctx.shape[0] * sc))),
                         interpolation=cv2.INTER_AREA)
        b = [v * sc for v in b]
    return np.ascontiguousarray(ctx), b


def cache_file(datasets_dir, cache_dir, use_uc3m=True):
    """Where load_real_cache keeps (and looks for) the real crops on this machine."""
    swap = "_swap" if set_root(datasets_dir, "plate-swap") else ""
    return os.path.join(cache_dir, "real_v%d%s%s.pkl" % (CACHE_VERSION, "" if use_uc3m else "_nouc3m", swap))


def load_real_cache(datasets_dir, cache_dir, use_uc3m=True):
    os.makedirs(cache_dir, exist_ok=True)
    path = cache_file(datasets_dir, cache_dir, use_uc3m)
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f), path
    items = build_real_items(datasets_dir, use_uc3m)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(items, f, protocol=4)
    os.replace(tmp, path)
    return items, path


def count_by_set(items, split):
    c = {}
    for it in items:
        if it["split"] == split:
            c[it["set"]] = c.get(it["set"], 0) + 1
    return c


# ----------------------------------------------------------------------------- augmentation

def warp_to_input(img, box, rng, strength):
    """Maps the (jittered, perturbed) plate quad onto the 160x48 input in one warp, so box
    padding, rotation, shear and perspective cost a single resample. strength 0 = the plain
    eval crop (box + small fixed padding)."""
    x, y, w, h = box
    if strength <= 0:
        px, py = 0.04 * w, 0.08 * h
        l, t, r, b = x - px, y - py, x + w + px, y + h + py
        src = np.float32([[l, t], [r, t], [r, b], [l, b]])
    else:
        # Detector boxes can be a bit loose or a bit tight: pad each side independently. Only
        # slightly tight, though: a crop that cuts into the first/last glyph teaches CTC to
        # hallucinate characters that are not visible.
        l = x - w * rng.uniform(-0.02, 0.12) * strength
        r = x + w + w * rng.uniform(-0.02, 0.12) * strength
        t = y - h * rng.uniform(-0.04, 0.20) * strength
        b = y + h + h * rng.uniform(-0.04, 0.20) * strength
        src = np.float32([[l, t], [r, t], [r, b], [l, b]])
        c = src.mean(0)
        ang = math.radians(rng.gauss(0, 2.5) * strength)
        rot = np.float32([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
        src = (src - c) @ rot.T + c
        jit = np.float32([[rng.gauss(0, 0.012) * (r - l), rng.gauss(0, 0.03) * (b - t)]
                          for _ in range(4)]) * strength
        src = src + jit
    dst = np.float32([[0, 0], [IN_W, 0], [IN_W, IN_H], [0, IN_H]])
    M = cv2.getPerspectiveTransform(src.astype(np.float32), dst)
    # Shrinking a big crop straight to 160 px aliases badly; pre-blur proportionally.
    scale = (src[1, 0] - src[0, 0]) / IN_W
    if scale > 2.0:
        k = int(scale) | 1
        img = cv2.GaussianBlur(img, (k, k), 0)
    return cv2.warpPerspective(img, M, (IN_W, IN_H), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def photometric(im, rng, strength):
    if strength <= 0:
        return im
    im = im.astype(np.float32)
    if rng.random() < 0.08 * strength:
        # Pole cameras switch to IR at night: monochrome frames.
        g = im @ np.float32([0.299, 0.587, 0.114])
        im = np.repeat(g[..., None], 3, axis=2)
    else:
        sat = rng.uniform(0.7, 1.25)
        g = im.mean(axis=2, keepdims=True)
        im = g + (im - g) * sat
    im = im * rng.uniform(0.6, 1.3) + rng.uniform(-40, 40) * strength
    m = im.mean()
    im = (im - m) * rng.uniform(0.6, 1.3) + m
    im = np.clip(im, 0, 255)
    if rng.random() < 0.4:
        im = 255.0 * (im / 255.0) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.3 * strength:
        # Distant plates: few real pixels, upscaled by the pipeline.
        f = rng.uniform(0.3, 0.7)
        small = cv2.resize(im, (max(8, int(IN_W * f)), max(4, int(IN_H * f))), interpolation=cv2.INTER_AREA)
        im = cv2.resize(small, (IN_W, IN_H), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3 * strength:
        s = rng.uniform(0.3, 1.3)
        im = cv2.GaussianBlur(im, (0, 0), s)
    if rng.random() < 0.15 * strength:
        k = rng.choice([3, 5, 7])
        ker = np.zeros((k, k), np.float32)
        ker[k // 2, :] = 1.0 / k  # horizontal motion blur: vehicles move sideways through frame
        im = cv2.filter2D(im, -1, ker)
    if rng.random() < 0.3 * strength:
        im = im + np.float32(rng.uniform(2, 12)) * np.random.default_rng(rng.getrandbits(32)).standard_normal(im.shape).astype(np.float32)
    im = np.clip(im, 0, 255).astype(np.uint8)
    if rng.random() < 0.3 * strength:
        ok, enc = cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(25, 80)])
        if ok:
            im = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED)
    return im


def to_chw(im):
    return np.ascontiguousarray(im.transpose(2, 0, 1))


def eval_crop(item):
    return to_chw(warp_to_input(item["img"], item["box"], None, 0))


def real_sample(item, rng, strength=1.0):
    im = warp_to_input(item["img"], item["box"], rng, strength)
    return to_chw(photometric(im, rng, strength))


# ----------------------------------------------------------------------------- synthetic

_synth_modules = {}


def import_synth(synth_dir):
    """The plate renderer: ours (scripts/synth/plates.py), or the plates.py of another folder."""
    if os.path.abspath(synth_dir) == DEFAULT_SYNTH_DIR:
        from scripts.synth import plates
        return plates
    path = os.path.join(os.path.abspath(synth_dir), "plates.py")
    if path not in _synth_modules:
        if not os.path.exists(path):
            raise ImportError("no plates.py in " + synth_dir)
        spec = importlib.util.spec_from_file_location("plates", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _synth_modules[path] = module
    return _synth_modules[path]


def synth_render(plates, rng, max_w=320):
    """One rendered plate -> (RGB uint8 array, text, state idx or -1), before our own
    augmentation. Stored images are capped at 2x the input width to bound the pool's memory."""
    for _ in range(20):
        img, text, state = plates.render_plate(rng, degrade=True)
        text = "".join(c for c in str(text).upper() if not c.isspace())
        if _valid_text(text):
            break
    arr = np.asarray(img.convert("RGB"))
    if arr.shape[1] > max_w:
        arr = cv2.resize(arr, (max_w, max(1, round(arr.shape[0] * max_w / arr.shape[1]))),
                         interpolation=cv2.INTER_AREA)
    st = region_to_state(state) if state else None
    return np.ascontiguousarray(arr), text, (-1 if st is None else st)


def synth_augment(rendered, rng, strength=0.5):
    arr, text, st = rendered
    box = [0, 0, arr.shape[1], arr.shape[0]]
    im = warp_to_input(arr, box, rng, strength)
    return to_chw(photometric(im, rng, strength)), text, st


class SynthPool:
    """Rendering costs ~40 ms a plate (about 25/s on one core), several times slower than the
    trainer consumes crops. So each batch renders only `new_per_batch` fresh plates into a pool
    and draws the rest from the pool, each draw re-augmented (new framing, blur, noise, JPEG):
    every rendered plate is seen a few times, in different guises, instead of the GPU/CPU waiting."""

    def __init__(self, plates, rng, size=2000, warm=256):
        self.plates, self.rng, self.size = plates, rng, size
        self.pool = [synth_render(plates, rng) for _ in range(warm)]
        self.rendered = len(self.pool)

    def refresh(self, n):
        for _ in range(n):
            r = synth_render(self.plates, self.rng)
            self.rendered += 1
            if len(self.pool) < self.size:
                self.pool.append(r)
            else:
                self.pool[self.rng.randrange(self.size)] = r

    def sample(self, strength=0.5):
        return synth_augment(self.rng.choice(self.pool), self.rng, strength)


def synth_sample(plates, rng, strength=0.5):
    """One fresh render, augmented: (chw uint8, text, state idx or -1)."""
    return synth_augment(synth_render(plates, rng), rng, strength)


def make_batch(samples):
    """samples: list of (chw, text, state, set_id) -> dict of numpy arrays for the trainer."""
    x = np.stack([s[0] for s in samples])
    tgt, lens = [], []
    for s in samples:
        enc = [WILDCARD if c == "?" else CHARSET.index(c) + 1 for c in s[1]]
        tgt.extend(enc)
        lens.append(len(enc))
    return dict(x=x, targets=np.asarray(tgt, np.int64), target_lengths=np.asarray(lens, np.int64),
                state=np.asarray([s[2] if s[2] >= 0 else -100 for s in samples], np.int64),
                set_id=np.asarray([s[3] for s in samples], np.int64))


SET_IDS = {"synth": 0}
for _i, _n in enumerate(REAL_SETS):
    SET_IDS[_n] = _i + 1
ID_TO_SET = {v: k for k, v in SET_IDS.items()}
