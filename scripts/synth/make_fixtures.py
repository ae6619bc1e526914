#!/usr/bin/python3
"""Small synthetic test fixtures: plate crops, road scenes with boxes, and deliberately broken files.

    /usr/bin/python3 scripts/synth/make_clip.py --seed 7      # first: bad/truncated.mp4 is cut from it
    /usr/bin/python3 scripts/synth/make_fixtures.py

Writes test/fixtures/{plates,scenes,bad}/. Fixed seeds, so reruns give the same bytes. Everything
is drawn by plates.py / make_clip.py: no real plates, no third-party images.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

import cv2
import numpy as np

if not __package__:  # run as a file, not with -m: `scripts` is imported from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from scripts.synth import make_clip, plates  # noqa: E402

REPO = make_clip.REPO
SEED = 11
CROP_WIDTH = 240
JPEG_QUALITY_CROP = 88
JPEG_QUALITY_SCENE = 72  # keeps the three 720p scenes under ~90 KB each

# (state, stacked letters): one stacked pair so readers are tested on the small left characters.
CROP_STATES = [("CA", ""), ("TX", ""), ("FL", ""), ("NY", ""), ("WA", ""), ("AZ", ""), ("OR", "KT"), ("PA", "")]


def write_jpeg(path: str, rgb: np.ndarray, quality: int) -> None:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    assert ok
    with open(path, "wb") as f:
        f.write(buf.tobytes())


def write_jsonl(path: str, records: list[dict]) -> None:
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def clean_crop(rng: random.Random, state: str, stacked: str) -> tuple[np.ndarray, str]:
    """A plate as a good camera would crop it: a little body colour around it, slight tilt, soft focus."""
    spec = plates.sample_spec(rng, state, varied=False)
    spec.stacked = stacked
    plate = plates.draw_plate(spec, rng)
    H, W = plate.shape[:2]
    mx, my = int(W * 0.06), int(H * 0.1)
    canvas_w, canvas_h = W + 2 * mx, H + 2 * my
    angle = rng.uniform(-2.0, 2.0)
    M = cv2.getRotationMatrix2D((W / 2, H / 2), angle, 1.0)
    M[:, 2] += (mx, my)
    warped = cv2.warpAffine(plate, M, (canvas_w, canvas_h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    bg = plates.context_background(rng, canvas_h, canvas_w)
    a = warped[..., 3:]
    rgb = warped[..., :3] * a + bg * (1 - a)
    scale = CROP_WIDTH / canvas_w
    rgb = cv2.resize(rgb, (CROP_WIDTH, round(canvas_h * scale)), interpolation=cv2.INTER_AREA)
    rgb = cv2.GaussianBlur(rgb, (0, 0), 0.5)
    rgb += plates.random_np(rng).normal(0, 2.0, rgb.shape).astype(np.float32)
    return np.clip(rgb, 0, 255).astype(np.uint8), spec.label


def make_plates(out: str) -> list[str]:
    os.makedirs(out, exist_ok=True)
    records, names = [], []
    for i, (state, stacked) in enumerate(CROP_STATES):
        rgb, label = clean_crop(random.Random(SEED * 100 + i), state, stacked)
        name = f"{i:02d}-{state.lower()}.jpg"
        write_jpeg(os.path.join(out, name), rgb, JPEG_QUALITY_CROP)
        records.append({"image": name, "kind": "crop", "split": "test",
                        "plates": [{"text": label, "region": f"us-{state.lower()}"}]})
        names.append(name)
    write_jsonl(os.path.join(out, "labels.jsonl"), records)
    return names


# name -> vehicles as (state, facing, kind, colour index, plate width at 720p, lateral offset X);
# listed far to near, which is also the drawing order.
SCENES = {
    "one-car.jpg": [("TX", "rear", "sedan", 3, 180.0, 1.2)],
    "two-cars.jpg": [("NY", "front", "suv", 4, 140.0, -1.3), ("WA", "rear", "hatch", 2, 185.0, 2.3)],
    "empty-road.jpg": [],
}


def make_scenes(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    geo = make_clip.Geometry(1280, 720)
    background = make_clip.build_background(geo, SEED)
    records = []
    for n, (name, vehicles) in enumerate(SCENES.items()):
        rng = random.Random(SEED * 1000 + n)
        nrng = np.random.default_rng(SEED * 1000 + n)
        frame = background.copy()
        labels = []
        for state, facing, kind, colour, w, X in vehicles:
            text = plates.random_plate_text(rng, state)
            v = make_clip.make_vehicle(rng, state, text, facing, kind, make_clip.BODY_PALETTE[colour], 320.0)
            make_clip.draw_shadow(frame, geo, w, X)
            make_clip.composite(frame, geo, v, w, X, nrng=nrng)
            x, y, bw, bh = geo.plate_box(w, X)
            labels.append({"box": [round(x), round(y), round(bw), round(bh)], "text": v.label,
                           "region": f"us-{state.lower()}"})
        check_visible(labels, vehicles, geo)
        write_jpeg(os.path.join(out, name), frame, JPEG_QUALITY_SCENE)
        records.append({"image": name, "kind": "scene", "split": "test", "plates": labels})
    write_jsonl(os.path.join(out, "labels.jsonl"), records)


def check_visible(labels: list[dict], vehicles: list[tuple], geo) -> None:
    """Every labelled plate lies fully in frame and no nearer car (drawn later) covers it."""
    for i, lab in enumerate(labels):
        x, y, w, h = lab["box"]
        assert x >= 0 and y >= 0 and x + w <= geo.width and y + h <= geo.height, lab
        for *_, wn, Xn in vehicles[i + 1:]:
            half = (make_clip.CAR_HALF_W + 0.35) * wn * geo.s  # body plus door mirrors
            left, right = geo.screen_x(Xn, wn) - half, geo.screen_x(Xn, wn) + half
            assert right <= x or left >= x + w, f"{lab['text']} hidden by a nearer car"


def make_bad(out: str, crop_path: str, clip_path: str) -> None:
    """Inputs a reader must reject cleanly rather than crash on."""
    os.makedirs(out, exist_ok=True)
    with open(crop_path, "rb") as f:
        jpeg = f.read()
    with open(os.path.join(out, "truncated.jpg"), "wb") as f:
        f.write(jpeg[:len(jpeg) // 2])
    open(os.path.join(out, "empty.jpg"), "wb").close()
    with open(os.path.join(out, "not-an-image.png"), "w") as f:
        f.write("This is a text file with a .png name. It is not an image.\n")
    if not os.path.exists(clip_path):
        raise SystemExit(f"{clip_path} missing: run scripts/synth/make_clip.py first")
    with open(clip_path, "rb") as f:
        head = f.read(30 * 1024)
    with open(os.path.join(out, "truncated.mp4"), "wb") as f:
        f.write(head)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write the synthetic test fixtures.")
    ap.add_argument("--root", default=os.path.join(REPO, "test/fixtures"))
    ap.add_argument("--clip", default=make_clip.DEFAULT_OUT, help="clip to cut bad/truncated.mp4 from")
    args = ap.parse_args(argv)
    names = make_plates(os.path.join(args.root, "plates"))
    print("fixtures: plates done", file=sys.stderr)
    make_scenes(os.path.join(args.root, "scenes"))
    print("fixtures: scenes done", file=sys.stderr)
    make_bad(os.path.join(args.root, "bad"), os.path.join(args.root, "plates", names[0]), args.clip)
    total = sum(os.path.getsize(os.path.join(d, f)) for sub in ("plates", "scenes", "bad")
                for d, _, files in os.walk(os.path.join(args.root, sub)) for f in files)
    print(f"fixtures: {total / 1024:.0f} KB in plates/, scenes/, bad/", file=sys.stderr)


if __name__ == "__main__":
    main()
