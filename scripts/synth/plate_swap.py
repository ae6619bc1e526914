#!/usr/bin/env python3
"""Plate swap: realistic US scenes with known text. Every labelled plate of a real scene in
../shared/datasets gets one of our synthetic US plates rendered into its place: the same place,
size and tilt, blurred, noised and lit like the plate it replaces, with the real car, bumper,
shadow and (sometimes) a dealer frame with text around it; now and then a bumper sticker or badge
with text that is no plate (unlabelled: a hard negative), night IR, motion blur or a coarse video
codec's look over the whole picture; then the picture re-encoded.

Output (a git-ignored folder; the pictures are third-party photographs and are never committed):
  OUT/images/<set>/<n>.jpg and OUT/labels.jsonl in the shared datasets' format, each line with the
  new plate's box, text and state, the source split (a test scene stays test) and the source's
  set and label line in `source` (never its plate text).

  /usr/bin/python3 scripts/synth/plate_swap.py --out data/plate-swap --per-scene 4 --split train
  /usr/bin/python3 scripts/synth/plate_swap.py --out data/plate-swap --contact-sheet data/plate-swap/sheet.jpg
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import cv2
import numpy as np

if not __package__:  # run as a file, not with -m: `scripts` is imported from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from scripts.common.images import imread_rgb  # noqa: E402
from scripts.common.paths import DEFAULT_DATASETS, REPO  # noqa: E402
from scripts.common.scenes import labelled_scenes  # noqa: E402
from scripts.synth import plates  # noqa: E402
# Scene sets with plate boxes. uc3m-lp scenes are 320 px: their plates are too small to swap.
SWAP_SETS = ("ucsd-ca", "openalpr-eu", "openalpr-br", "romanian-lp")


def plate_quad(box, img_w, img_h):
    """The whole plate's place from a labelled box. ucsd-ca labels the number band only (wider than
    2.6:1), EU plates are 4.7:1: both become a 2:1 US plate as wide as the box, centred on it."""
    x, y, w, h = (float(v) for v in box)
    cx, cy = x + w / 2, y + h / 2
    if w / max(h, 1) > 2.6:
        ph = w / 2
        cy -= 0.06 * ph  # the number band sits a little below the plate's centre
    else:
        ph = max(h, w / 2.2)
    pw = ph * 2
    if w / max(h, 1) > 2.6 or pw > w * 1.15:
        pw = w * 1.02
        ph = pw / 2
    return cx, cy, pw, ph


def region_stats(img, cx, cy, pw, ph):
    """Mean colour, luminance contrast, sharpness and noise of the plate being replaced."""
    x0, y0 = int(max(0, cx - pw / 2)), int(max(0, cy - ph / 2))
    x1, y1 = int(min(img.shape[1], cx + pw / 2)), int(min(img.shape[0], cy + ph / 2))
    reg = img[y0:y1, x0:x1].astype(np.float32)
    if reg.size == 0 or reg.shape[0] < 4 or reg.shape[1] < 4:
        return None
    grey = cv2.cvtColor(reg.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    sharp = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    # Sensor noise from the median absolute residual: robust to the old characters' edges, which
    # a plain standard deviation counts as noise.
    resid = grey - cv2.medianBlur(grey.astype(np.uint8), 3).astype(np.float32)
    noise = float(min(6.0, 1.4826 * np.median(np.abs(resid - np.median(resid)))))
    # The plate's background is its bright part; the darkest pixels are characters or shadow.
    lo, hi = np.percentile(grey, 5), np.percentile(grey, 95)
    bright = reg[grey >= np.percentile(grey, 60)]
    return dict(mean=reg.reshape(-1, 3).mean(0), bright=bright.mean(0) if len(bright) else reg.reshape(-1, 3).mean(0),
                lo=float(lo), hi=float(hi), sharp=sharp, noise=noise)


def render_into(img, box, rng, stats_src=None, frame_p=0.35):
    """Renders one synthetic plate into img (RGB uint8, changed in place). Returns (box, text, state)."""
    H, W = img.shape[:2]
    cx, cy, pw, ph = plate_quad(box, W, H)
    st = stats_src or region_stats(img, cx, cy, pw, ph)
    if st is None or pw < 24:
        return None
    spec = plates.sample_spec(rng)
    spec.frame = None  # the dealer frame below replaces the plain edge band
    rgba = plates.draw_plate(spec, rng)
    inner = (0, 0, rgba.shape[1], rgba.shape[0])
    if rng.random() < frame_p:
        rgba, inner = plates.add_dealer_frame(rgba, rng)
    # Place the plate (not its frame) on the quad, with a small tilt and perspective of its own.
    sx = pw / inner[2]
    angle = math.radians(rng.gauss(0, 2.0))
    yaw = rng.gauss(0, 0.05)
    fh, fw = rgba.shape[:2]
    src = np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]])
    pcx, pcy = inner[0] + inner[2] / 2, inner[1] + inner[3] / 2
    dst = []
    for u, v in src:
        dx, dy = (u - pcx) * sx, (v - pcy) * sx
        dy *= 1 + yaw * math.copysign(1, dx)
        dst.append((cx + dx * math.cos(angle) - dy * math.sin(angle), cy + dx * math.sin(angle) + dy * math.cos(angle)))
    dst = np.float32(dst)
    M = cv2.getPerspectiveTransform(src, dst)
    # Render big, then let warpPerspective shrink with area-like quality via a pre-blur.
    shrink = 1 / max(sx, 1e-3)
    pre = rgba
    if shrink > 2:
        k = shrink / 2.5
        pre = cv2.GaussianBlur(rgba, (0, 0), k)
    warped = cv2.warpPerspective(pre, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3:4]
    colour = warped[..., :3]
    # Light and colour cast: map the synthetic plate's bright background onto the real one's.
    m = alpha[..., 0] > 0.5
    if m.sum() < 20:
        return None
    syn_bright = np.percentile(colour[m], 80, axis=0)
    gain = np.clip(st["bright"] / np.maximum(syn_bright, 1), 0.2, 1.6)
    colour = colour * gain
    # Sharpness: blur until the new plate is no sharper than the old one was.
    x0, y0 = int(max(0, cx - pw / 2)), int(max(0, cy - ph / 2))
    x1, y1 = int(min(W, cx + pw / 2)), int(min(H, cy + ph / 2))
    for sigma in (0, 0.5, 0.8, 1.1, 1.5, 2.0, 2.7):
        trial = cv2.GaussianBlur(colour, (0, 0), sigma) if sigma else colour
        g = cv2.cvtColor(np.clip(trial[y0:y1, x0:x1], 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
        if cv2.Laplacian(g, cv2.CV_32F).var() <= st["sharp"] * 1.2:
            break
    colour = trial
    nrng = np.random.default_rng(rng.getrandbits(32))
    # Mostly luminance noise, as a camera's is after its own processing.
    lum = nrng.normal(0, max(0.5, st["noise"]), colour.shape[:2] + (1,)).astype(np.float32)
    colour = colour + lum + nrng.normal(0, 0.3 * max(0.5, st["noise"]), colour.shape).astype(np.float32)
    # A feathered edge, so the plate sits in the picture rather than on it.
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.7)[..., None] if alpha.ndim == 3 else alpha
    out = img.astype(np.float32) * (1 - alpha) + np.clip(colour, 0, 255) * alpha
    img[:] = np.clip(out, 0, 255).astype(np.uint8)
    corners = cv2.perspectiveTransform(np.float32([[[inner[0], inner[1]], [inner[0] + inner[2], inner[1]],
                                                    [inner[0] + inner[2], inner[1] + inner[3]], [inner[0], inner[1] + inner[3]]]]), M)[0]
    bx0, by0 = corners.min(0)
    bx1, by1 = corners.max(0)
    bx0, by0, bx1, by1 = max(0, bx0), max(0, by0), min(W, bx1), min(H, by1)
    return [round(float(bx0), 1), round(float(by0), 1), round(float(bx1 - bx0), 1), round(float(by1 - by0), 1)], spec.label, spec.state


def load_scenes(datasets, sets, split):
    out = []
    for set_name, root, line_no, e, sp in labelled_scenes(datasets, sets, split):
        boxes = [p["box"] for p in e.get("plates", []) if p.get("box") and p["box"][2] >= 24]
        if boxes:
            out.append(dict(path=os.path.join(root, e["image"]), set=set_name, line=line_no, split=sp, boxes=boxes))
    return out


_STICKER_WORDS = ["HONOR STUDENT", "COEXIST", "BABY ON BOARD", "26.2", "I BRAKE FOR", "GO TEAM", "SURF",
                  "STUDENT DRIVER", "VOTE", "PARKING PERMIT", "4X4", "HYBRID", "SPORT", "LIMITED", "V6 TURBO"]


def add_hard_negative(img, plate_boxes, rng):
    """Text that is no plate, on the car away from the plate: a bumper sticker or a badge, white
    or coloured, with letters and digits. It is not labelled, so a detector learns to leave it."""
    H, W = img.shape[:2]
    if not plate_boxes:
        return
    x, y, w, h = plate_boxes[0]
    sw, sh = int(w * rng.uniform(0.8, 1.6)), int(h * rng.uniform(0.35, 0.7))
    for _ in range(10):
        sx = int(x + w / 2 + rng.choice([-1, 1]) * w * rng.uniform(1.2, 2.6) - sw / 2)
        sy = int(y + h / 2 + rng.uniform(-1.5, 0.8) * h - sh / 2)
        if 0 <= sx and sx + sw < W and 0 <= sy and sy + sh < H and all(
                sx + sw < b[0] or sx > b[0] + b[2] or sy + sh < b[1] or sy > b[1] + b[3] for b in plate_boxes):
            break
    else:
        return
    bg = rng.choice([(245, 245, 245), (20, 20, 24), (200, 30, 40), (30, 60, 150), (250, 210, 40)])
    ink = (20, 20, 20) if sum(bg) > 450 else (245, 245, 245)
    sticker = np.zeros((sh, sw), np.float32)
    plates.paste_mask(sticker, plates.fit_text(rng.choice(["dejavu-bold", "freesans-bold"]), rng.choice(_STICKER_WORDS), sw * 0.9, sh * 0.7), sw / 2, sh / 2)
    patch = np.empty((sh, sw, 3), np.float32)
    patch[:] = bg
    patch += (np.float32(ink) - patch) * sticker[..., None]
    region = img[sy:sy + sh, sx:sx + sw].astype(np.float32)
    light = region.mean() / 128
    img[sy:sy + sh, sx:sx + sw] = np.clip(cv2.GaussianBlur(patch * min(1.3, max(0.4, light)), (0, 0), 0.6), 0, 255).astype(np.uint8)


def camera_look(img, rng):
    """What a roadside camera adds to the whole picture: now and then night IR (grey, dark, the
    retroreflective plate bright), motion blur, or a coarse video codec's loss of detail."""
    r = rng.random()
    if r < 0.12:
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        grey = np.clip((grey / 255) ** 1.6 * 255 * rng.uniform(0.6, 1.0), 0, 255)
        img[:] = np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)
    elif r < 0.24:
        k = plates.motion_kernel(rng.uniform(2, 7), rng.uniform(-20, 20))
        img[:] = cv2.filter2D(img, -1, k)
    elif r < 0.36:
        h, w = img.shape[:2]
        f = rng.uniform(0.45, 0.75)
        small = cv2.resize(img, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(25, 45)])
        img[:] = cv2.resize(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED), (w, h), interpolation=cv2.INTER_LINEAR)


def swap_scene(scene, rng, jpeg_q=None):
    try:
        img = imread_rgb(scene["path"])
    except IOError:
        return None
    new = []
    for b in scene["boxes"]:
        r = render_into(img, b, rng)
        if r:
            box, text, state = r
            new.append({"box": box, "text": text, "region": f"us-{state.lower()}"})
    if not new:
        return None
    if rng.random() < 0.3:
        add_hard_negative(img, [p["box"] for p in new], rng)
    camera_look(img, rng)
    q = jpeg_q or rng.randint(70, 95)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
    return buf.tobytes(), new, img


def contact_sheet(items, path, cols=4, tile=(360, 200)):
    tiles = []
    for img, p in items:
        x, y, w, h = p["box"]
        cx, cy = x + w / 2, y + h / 2
        s = max(w * 2.6, h * 4.0)
        x0, y0 = int(max(0, cx - s / 2)), int(max(0, cy - s * tile[1] / tile[0] / 2))
        x1, y1 = int(min(img.shape[1], x0 + s)), int(min(img.shape[0], y0 + s * tile[1] / tile[0]))
        crop = img[y0:y1, x0:x1]
        tiles.append(cv2.resize(crop, tile, interpolation=cv2.INTER_AREA))
    while len(tiles) % cols:
        tiles.append(np.zeros((tile[1], tile[0], 3), np.uint8))
    rows = [np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)]
    cv2.imwrite(path, cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default=DEFAULT_DATASETS)
    ap.add_argument("--sets", default=",".join(SWAP_SETS))
    ap.add_argument("--split", default="train", choices=["train", "val", "test", "all"],
                    help="which source scenes (default train: swapped val/test scenes must not train)")
    ap.add_argument("--out", default=os.path.join(REPO, "data", "plate-swap"), help="git-ignored folder")
    ap.add_argument("--per-scene", type=int, default=4, help="swapped versions of each scene")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--contact-sheet", help="also write a sheet of the first swaps here (never commit it: real photographs)")
    ap.add_argument("--sheet-count", type=int, default=24)
    args = ap.parse_args(argv)
    scenes = load_scenes(args.datasets, args.sets.split(","), args.split)
    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    sheet = []
    n = 0
    with open(os.path.join(args.out, "labels.jsonl"), "w") as lf:
        for k in range(args.per_scene):
            for i, sc in enumerate(scenes):
                rng = plates.sample_rng(args.seed, k * 100_000 + i)
                r = swap_scene(sc, rng)
                if r is None:
                    continue
                jpg, new, img = r
                rel = os.path.join("images", sc["set"], f"{n:06d}.jpg")
                os.makedirs(os.path.dirname(os.path.join(args.out, rel)), exist_ok=True)
                with open(os.path.join(args.out, rel), "wb") as f:
                    f.write(jpg)
                lf.write(json.dumps({"image": rel, "kind": "scene", "split": sc["split"], "plates": new,
                                     "source": f"{sc['set']}#{sc['line']}"}) + "\n")
                n += 1
                if args.contact_sheet and len(sheet) < args.sheet_count and k == 0 and i % max(1, len(scenes) // args.sheet_count) == 0:
                    sheet.append((img, new[0]))
                if n % 100 == 0:
                    print(f"plate swap: {n} scenes", file=sys.stderr)
    if args.contact_sheet:
        contact_sheet(sheet, args.contact_sheet)
    print(f"plate swap: {n} scenes from {len(scenes)} sources in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
