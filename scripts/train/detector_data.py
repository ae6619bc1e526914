"""Data for the plate detector: real scenes from ../shared/datasets, synthetic plates pasted in,
scale jitter and camera-like degradations.

Privacy: nothing here prints a plate text or a file name of a real image; the scene cache lives
under train-runs/ (git-ignored) and holds no text at all.
"""

import json
import math
import os
import pickle

import cv2
import numpy as np

from scripts.common.images import imread_rgb
from scripts.common.splits import norm_split
from scripts.train.detector_model import STRIDE
from scripts.train.reader_data import set_root

CACHE_VERSION = 1
MAX_SIDE = 1024  # scenes are stored at most this big: the working resolution is 640-960

# Sampling weights per set. ucsd-ca is the US set; uc3m-lp has many small, far plates (what a pole
# camera sees); eu/br/ro add variety of vehicles, light and plate shapes.
SCENE_SETS = {
    "ucsd-ca": 0.30,
    "uc3m-lp": 0.25,
    "openalpr-eu": 0.22,
    "openalpr-br": 0.08,
    "romanian-lp": 0.05,
    # Real scenes with our US plates swapped in (scripts/synth/plate_swap.py), when made.
    "plate-swap": 0.25,
}
SYNTH_ONLY = 0.10  # share of samples that are a synthetic plate on a real scene with no labelled plate kept


def build_scenes(datasets_dir):
    scenes = []
    for set_name in SCENE_SETS:
        root = set_root(datasets_dir, set_name)
        if root is None:
            continue
        with open(os.path.join(root, "labels.jsonl")) as f:
            entries = [json.loads(l) for l in f if l.strip()]
        for e in entries:
            if e.get("kind") != "scene":
                continue
            boxes = [p["box"] for p in e.get("plates", []) if p.get("box")]
            img = imread_rgb(os.path.join(root, e["image"]))
            sc = min(1.0, MAX_SIDE / max(img.shape[:2]))
            if sc < 1.0:
                img = cv2.resize(img, (round(img.shape[1] * sc), round(img.shape[0] * sc)), interpolation=cv2.INTER_AREA)
            b = np.asarray(boxes, np.float32).reshape(-1, 4) * sc
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
            scenes.append(dict(set=set_name, split=norm_split(e), jpg=buf.tobytes(), boxes=b,
                               size=(img.shape[1], img.shape[0])))
    return scenes


def load_scene_cache(datasets_dir, cache_dir):
    """Scenes as JPEG bytes (memory stays ~100 MB) with boxes in the stored image's pixels."""
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, "scenes_v%d%s.pkl" % (CACHE_VERSION, "_swap" if set_root(datasets_dir, "plate-swap") else ""))
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    scenes = build_scenes(datasets_dir)
    with open(path + ".tmp", "wb") as f:
        pickle.dump(scenes, f, protocol=4)
    os.replace(path + ".tmp", path)
    return scenes


def decode_scene(s):
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(s["jpg"], np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


# ----------------------------------------------------------------------------- synthetic plates

class SynthPlates:
    """A pool of clean synthetic RGBA plates (our own renderer), refreshed a few at a time."""

    def __init__(self, rng, size=300):
        from scripts.synth import plates as P
        self.P, self.rng, self.size = P, rng, size
        self.pool = [self._render() for _ in range(min(size, 60))]

    def _render(self):
        spec = self.P.sample_spec(self.rng, varied=True)
        return self.P.draw_plate(spec, self.rng, width=200)

    def refresh(self, n=1):
        for _ in range(n):
            p = self._render()
            if len(self.pool) < self.size:
                self.pool.append(p)
            else:
                self.pool[self.rng.randrange(len(self.pool))] = p

    def sample(self):
        return self.rng.choice(self.pool)


def paste_plate(canvas, plate, rng, width_px, cx, cy):
    """Pastes an RGBA plate (float 0..255 / 0..1 alpha) with perspective, rotation and lighting;
    returns its box [x, y, w, h] in canvas pixels, or None if it fell off the canvas."""
    H, W = plate.shape[:2]
    s = width_px / W
    w, h = W * s, H * s
    ang = math.radians(rng.gauss(0, 4))
    yaw, pitch = rng.gauss(0, 0.12), rng.gauss(0, 0.06)
    src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    dst = []
    ca, sa = math.cos(ang), math.sin(ang)
    for x, y in src:
        dx, dy = (x - W / 2) * s, (y - H / 2) * s
        side, edge = math.copysign(1, dx), math.copysign(1, dy)
        px = dx * (1 - abs(yaw) * 0.8) * (1 + pitch * edge)
        py = dy * (1 + yaw * side)
        dst.append((cx + px * ca - py * sa, cy + px * sa + py * ca))
    dst = np.float32(dst)
    x0, y0 = dst.min(0)
    x1, y1 = dst.max(0)
    ch, cw = canvas.shape[:2]
    if x0 < 0 or y0 < 0 or x1 > cw or y1 > ch:
        return None
    M = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate, M, (cw, ch), flags=cv2.INTER_AREA if s < 0.5 else cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    a = warped[..., 3:4]
    rgb = warped[..., :3] * rng.uniform(0.45, 1.1)  # plate lit darker/brighter than the scene
    if rng.random() < 0.3:
        g = rgb.mean(2, keepdims=True)
        rgb = np.repeat(g, 3, 2) * rng.uniform(1.0, 1.6)  # IR: retroreflective plate glows
    canvas[:] = canvas * (1 - a) + np.clip(rgb, 0, 255) * a
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


# ----------------------------------------------------------------------------- training samples

def _log_uniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def photometric(img, rng):
    img = img.astype(np.float32)
    if rng.random() < 0.15:  # night / IR: grey, high contrast
        g = img.mean(2, keepdims=True)
        img = np.repeat(g, 3, 2)
        lo, hi = np.percentile(img, 3), np.percentile(img, 99.5)
        img = (img - lo) / max(1.0, hi - lo) * 255
    else:
        gain, gamma = rng.uniform(0.6, 1.3), rng.uniform(0.7, 1.4)
        cast = np.float32([rng.uniform(0.9, 1.1) for _ in range(3)])
        img = 255 * (np.clip(img * gain * cast, 0, 255) / 255) ** gamma
    if rng.random() < 0.25:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.4))
    if rng.random() < 0.15:
        k = np.zeros((7, 7), np.float32)
        k[3, :] = 1.0 / 7
        M = cv2.getRotationMatrix2D((3, 3), rng.uniform(-30, 30), 1.0)
        img = cv2.filter2D(img, -1, cv2.warpAffine(k, M, (7, 7)))
    if rng.random() < 0.5:
        img = img + np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(1, 7), img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(30, 90)])
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out


def train_sample(scene, img, synth, rng, size=320):
    """One size x size training crop with plate boxes [n,4] (x, y, w, h) in crop pixels."""
    boxes = scene["boxes"]
    H, W = img.shape[:2]
    # Scale so the chosen plate gets a width a pole camera sees at the working resolution.
    # The scaled scene must cover most of the crop: flat padding teaches nothing.
    s_min = 0.8 * size / max(H, W)
    if len(boxes) and rng.random() > SYNTH_ONLY:
        b = boxes[rng.randrange(len(boxes))]
        target = _log_uniform(rng, 14, 220)
        s = float(np.clip(target / max(4.0, b[2]), max(0.15, s_min), max(3.0, s_min)))
        fx, fy = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)
        ox = (b[0] + b[2] / 2) * s - fx * size
        oy = (b[1] + b[3] / 2) * s - fy * size
    else:
        s = max(s_min, rng.uniform(0.5, 1.5) * size / min(H, W))
        ox = rng.uniform(0, max(0, W * s - size))
        oy = rng.uniform(0, max(0, H * s - size))
    # Keep the crop inside the scaled scene where it is big enough (the plate stays in view).
    ox = float(np.clip(ox, min(0, W * s - size), max(0, W * s - size)))
    oy = float(np.clip(oy, min(0, H * s - size), max(0, H * s - size)))
    flip = rng.random() < 0.3
    M = np.float32([[s, 0, -ox], [0, s, -oy]])
    if flip:
        M = np.float32([[-1, 0, size], [0, 1, 0]]) @ np.vstack([M, [0, 0, 1]])
        M = M[:2].astype(np.float32)
    fill = tuple(int(v) for v in np.random.default_rng(rng.getrandbits(32)).integers(0, 255, 3))
    crop = cv2.warpAffine(img, M, (size, size), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill).astype(np.float32)
    out = []
    for b in boxes:
        x0, y0 = b[0] * s - ox, b[1] * s - oy
        x1, y1 = x0 + b[2] * s, y0 + b[3] * s
        if flip:
            x0, x1 = size - x1, size - x0
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(size, x1), min(size, y1)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        vis = (cx1 - cx0) * (cy1 - cy0) / max(1e-6, (x1 - x0) * (y1 - y0))
        if vis < 0.6 or cx1 - cx0 < 5:
            out.append([cx0, cy0, cx1 - cx0, cy1 - cy0, 0.0])  # ignored: half a plate is neither
            continue
        out.append([cx0, cy0, cx1 - cx0, cy1 - cy0, 1.0])
    # Our own synthetic US plates, pasted where no labelled plate is.
    n_paste = rng.choice([0, 0, 1, 1, 2, 3]) if out else rng.choice([1, 1, 2, 3])
    for _ in range(n_paste):
        wpx = _log_uniform(rng, 14, 180)
        cx, cy = rng.uniform(wpx * 0.6, size - wpx * 0.6), rng.uniform(wpx * 0.4, size - wpx * 0.4)
        if any(abs(cx - (o[0] + o[2] / 2)) < (wpx + o[2]) / 2 + 4 and abs(cy - (o[1] + o[3] / 2)) < (wpx / 2 + o[3]) / 2 + 4 for o in out):
            continue
        pb = paste_plate(crop, synth.sample(), rng, wpx, cx, cy)
        if pb:
            out.append(pb + [1.0])
    return photometric(crop, rng), np.asarray(out, np.float32).reshape(-1, 5)


def targets(boxes, size):
    """CenterNet targets at stride 8: gaussian heat, and box regression at each centre cell.
    Boxes flagged 0 (cut by the crop edge) mask their cells out of the heat loss instead."""
    g = size // STRIDE
    heat = np.zeros((g, g), np.float32)
    ignore = np.zeros((g, g), np.float32)
    reg = np.zeros((4, g, g), np.float32)
    mask = np.zeros((g, g), np.float32)
    ys, xs = np.mgrid[0:g, 0:g].astype(np.float32)
    for x, y, w, h, ok in boxes:
        cx, cy = (x + w / 2) / STRIDE, (y + h / 2) / STRIDE
        if not ok:
            x0, y0 = int(max(0, x // STRIDE)), int(max(0, y // STRIDE))
            x1, y1 = int(min(g, math.ceil((x + w) / STRIDE))), int(min(g, math.ceil((y + h) / STRIDE)))
            ignore[y0:y1, x0:x1] = 1
            continue
        sx = max(0.5, 0.18 * w / STRIDE)
        sy = max(0.5, 0.25 * h / STRIDE)
        gauss = np.exp(-((xs + 0.5 - cx) ** 2) / (2 * sx * sx) - ((ys + 0.5 - cy) ** 2) / (2 * sy * sy))
        heat = np.maximum(heat, gauss)
        ix, iy = min(g - 1, int(cx)), min(g - 1, int(cy))
        heat[iy, ix] = 1.0
        reg[:, iy, ix] = (cx - ix, cy - iy, math.log(max(w, 2) / STRIDE), math.log(max(h, 2) / STRIDE))
        mask[iy, ix] = 1.0
    ignore[heat > 0] = 0
    return heat, ignore, reg, mask


def eval_image(scene, max_side):
    """A validation scene at the working resolution (long side = max_side, padded to a multiple of
    32 like the TypeScript detector). Returns (padded uint8 image, boxes scaled)."""
    img = decode_scene(scene)
    H, W = img.shape[:2]
    s = max_side / max(H, W)
    nw, nh = round(W * s), round(H * s)
    im = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    pw, ph = -(-nw // 32) * 32, -(-nh // 32) * 32
    pad = np.zeros((ph, pw, 3), np.uint8)
    pad[:nh, :nw] = im
    return pad, scene["boxes"] * s
