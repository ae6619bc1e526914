#!/usr/bin/env python3
"""Video clips of vehicle passes made from the labelled real scenes of ../shared/datasets, for
`npm run eval -- DIR --mode passes`: each labelled scene is one vehicle, and the clip's ground
truth says when and where it is in view, so reads can be scored per vehicle (read once and right,
missed, read twice, read wrong) rather than per frame.

The clips hold third-party photographs and real plate numbers: they are written to a git-ignored
folder (default eval-clips/) and never committed. Nothing here prints a plate text.

Scenarios, each one clip per split:
  cuts-1080p30        each picture held 0.45 s, hard cuts, no motion (like a slide show of vehicles)
  cuts-centred-1080p30  as cuts, each plate moved to the same place at the same size (a queue at a stop line)
  approach-720p15     a slow zoom towards the plate over 3 s, then a cut to the next vehicle
  standstill-1080p15  each vehicle stands still for 3 s (a red light) with sensor noise, then a cut
  pairs-1080p30       two vehicles side by side in view at once for 1.5 s, then the next pair

Deterministic for a given split and sets (the order is by sha1 of the image name).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import cv2
import numpy as np

if not __package__:  # run as a file, not with -m: `scripts` is imported from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from scripts.common.images import imread_rgb  # noqa: E402
from scripts.common.paths import DEFAULT_DATASETS, REPO  # noqa: E402
from scripts.common.scenes import labelled_scenes  # noqa: E402
from scripts.common.video import open_h264_encoder  # noqa: E402

DEFAULT_SETS = ("ucsd-ca", "openalpr-eu", "openalpr-br")
BAR = (24, 24, 24)  # letterbox colour


def load_scenes(datasets: str, sets, split: str) -> list[dict]:
    scenes = []
    for set_name, root, line_no, e, _split in labelled_scenes(datasets, sets, split):
        plates = [p for p in e.get("plates", []) if p.get("text") and p.get("box")]
        if len(plates) != 1:
            continue  # one vehicle per picture: a second, unlabelled plate would be a "false" read
        scenes.append(dict(path=os.path.join(root, e["image"]), set=set_name, ref=f"{set_name}#{line_no}",
                           text=plates[0]["text"], box=plates[0]["box"]))
    scenes.sort(key=lambda s: hashlib.sha1(s["ref"].encode()).hexdigest())
    return scenes


def fit(img: np.ndarray, w: int, h: int) -> tuple[np.ndarray, float, int, int]:
    """Letterboxes img into w x h; returns the canvas, the scale and the offset."""
    s = min(w / img.shape[1], h / img.shape[0])
    nw, nh = int(round(img.shape[1] * s)), int(round(img.shape[0] * s))
    canvas = np.full((h, w, 3), BAR, np.uint8)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    return canvas, s, x0, y0


def read_rgb(path: str) -> np.ndarray:
    try:
        return imread_rgb(path)
    except IOError as e:
        raise SystemExit(str(e))


def open_encoder(path: str, w: int, h: int, fps: int):
    return open_h264_encoder(path, w, h, fps, 6000 if h >= 1080 else 3000, "faster")


def vehicle(scene: dict, start: int, end: int, region, boxes) -> dict:
    """boxes: the labelled plate's box in the frame, once if it stays put, else at its first,
    middle and last frame. Reads elsewhere in the picture are of unlabelled plates (the sets label
    one plate per picture), which the eval counts apart."""
    return dict(ref=scene["ref"], text=scene["text"], startFrame=start, endFrame=end,
                region=[int(v) for v in region], plateBoxes=[[round(float(v), 1) for v in b] for b in boxes])


def cuts(scenes, enc, w, h, fps, hold_s=0.45):
    out, f = [], 0
    n = int(round(hold_s * fps))
    for sc in scenes:
        canvas, s, x0, y0 = fit(read_rgb(sc["path"]), w, h)
        bx = [x0 + sc["box"][0] * s, y0 + sc["box"][1] * s, sc["box"][2] * s, sc["box"][3] * s]
        for _ in range(n):
            enc.stdin.write(canvas.tobytes())
        out.append(vehicle(sc, f, f + n - 1, [0, 0, w, h], [bx]))
        f += n
    return out, f


def held_at(scenes, enc, w, h, fps, hold_s, place, area_when_shrunk=False):
    """Each picture scaled and shifted so its plate has the scale and centre `place(scene)` gives
    ((s, cx, cy)), held for hold_s with hard cuts between pictures."""
    out, f = [], 0
    n = int(round(hold_s * fps))
    for sc in scenes:
        img = read_rgb(sc["path"])
        bx, by, bw, bh = sc["box"]
        s, cx, cy = place(sc)
        tx, ty = cx - (bx + bw / 2) * s, cy - (by + bh / 2) * s
        m = np.float32([[s, 0, tx], [0, s, ty]])
        flags = cv2.INTER_AREA if area_when_shrunk and s < 1 else cv2.INTER_LINEAR
        canvas = cv2.warpAffine(img, m, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=BAR)
        for _ in range(n):
            enc.stdin.write(canvas.tobytes())
        out.append(vehicle(sc, f, f + n - 1, [0, 0, w, h], [[bx * s + tx, by * s + ty, bw * s, bh * s]]))
        f += n
    return out, f


def cuts_centred(scenes, enc, w, h, fps, hold_s=0.45, plate_w=0.09):
    """As cuts, but every picture is scaled and shifted so its plate is the same size at the same
    place: what a fixed camera sees of a queue of cars at a stop line, and the hardest case for a
    tracker that links boxes by overlap."""
    return held_at(scenes, enc, w, h, fps, hold_s, lambda sc: (plate_w * w / sc["box"][2], w / 2, 0.62 * h))


def cuts_small(scenes, enc, w, h, fps, hold_s=0.45, seed=7, plate_px=(70, 110)):
    """As cuts, but every picture is scaled so its plate is 70-110 px wide, at a place that varies:
    the small plates of a wide view (a 1280x720 photo's 50-75 px plate shown at 1080p), which are
    20-35 px at the detector's working resolution."""
    rng = np.random.default_rng(seed)

    def place(sc):
        s = rng.uniform(*plate_px) / sc["box"][2]
        return s, rng.uniform(0.3, 0.7) * w, rng.uniform(0.5, 0.8) * h

    return held_at(scenes, enc, w, h, fps, hold_s, place, area_when_shrunk=True)


def standstill(scenes, enc, w, h, fps, hold_s=3.0, seed=5):
    rng = np.random.default_rng(seed)
    out, f = [], 0
    n = int(round(hold_s * fps))
    for sc in scenes:
        canvas, s, x0, y0 = fit(read_rgb(sc["path"]), w, h)
        bx = [x0 + sc["box"][0] * s, y0 + sc["box"][1] * s, sc["box"][2] * s, sc["box"][3] * s]
        base = canvas.astype(np.int16)
        for _ in range(n):
            noisy = np.clip(base + rng.normal(0, 3.0, (h, w, 1)).astype(np.int16), 0, 255).astype(np.uint8)
            enc.stdin.write(noisy.tobytes())
        out.append(vehicle(sc, f, f + n - 1, [0, 0, w, h], [bx]))
        f += n
    return out, f


def approach(scenes, enc, w, h, fps, dur_s=3.0, zoom=1.8):
    """The view closes in on the plate: the crop window shrinks from the whole picture to 1/zoom of
    it, centred ever closer on the plate, so the plate grows as a vehicle's does when it approaches."""
    out, f = [], 0
    n = int(round(dur_s * fps))
    for sc in scenes:
        img = read_rgb(sc["path"])
        ih, iw = img.shape[:2]
        px, py = sc["box"][0] + sc["box"][2] / 2, sc["box"][1] + sc["box"][3] / 2
        boxes = []
        for i in range(n):
            t = i / max(1, n - 1)
            z = 1 + (zoom - 1) * t
            cw, ch = iw / z, ih / z
            cx = min(max(iw / 2 + (px - iw / 2) * t, cw / 2), iw - cw / 2)
            cy = min(max(ih / 2 + (py - ih / 2) * t, ch / 2), ih - ch / 2)
            x0c, y0c = cx - cw / 2, cy - ch / 2
            m = np.float32([[1, 0, -x0c], [0, 1, -y0c]])
            view = cv2.warpAffine(img, m, (int(round(cw)), int(round(ch))), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            canvas, s, ox, oy = fit(view, w, h)
            enc.stdin.write(canvas.tobytes())
            boxes.append([ox + (sc["box"][0] - x0c) * s, oy + (sc["box"][1] - y0c) * s, sc["box"][2] * s, sc["box"][3] * s])
        out.append(vehicle(sc, f, f + n - 1, [0, 0, w, h], [boxes[0], boxes[n // 2], boxes[-1]]))
        f += n
    return out, f


def pairs(scenes, enc, w, h, fps, hold_s=1.5):
    out, f = [], 0
    n = int(round(hold_s * fps))
    half = w // 2
    for k in range(0, len(scenes) - 1, 2):
        canvas = np.full((h, w, 3), BAR, np.uint8)
        vs = []
        for j, sc in enumerate(scenes[k:k + 2]):
            part, s, x0, y0 = fit(read_rgb(sc["path"]), half, h)
            canvas[:, j * half:(j + 1) * half] = part
            bx = [j * half + x0 + sc["box"][0] * s, y0 + sc["box"][1] * s, sc["box"][2] * s, sc["box"][3] * s]
            vs.append(vehicle(sc, f, f + n - 1, [j * half, 0, half, h], [bx]))
        for _ in range(n):
            enc.stdin.write(canvas.tobytes())
        out.extend(vs)
        f += n
    return out, f


class NullEncoder:
    """Stands in for the encoder when only the ground truth is rewritten."""
    class _Sink:
        def write(self, _b):
            pass

        def close(self):
            pass

    stdin = _Sink()

    def wait(self):
        return 0


SCENARIOS = {
    "cuts-1080p30": (cuts, 1920, 1080, 30),
    "cuts-centred-1080p30": (cuts_centred, 1920, 1080, 30),
    "approach-720p15": (approach, 1280, 720, 15),
    "standstill-1080p15": (standstill, 1920, 1080, 15),
    "pairs-1080p30": (pairs, 1920, 1080, 30),
    "cuts-small-1080p30": (cuts_small, 1920, 1080, 30),
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default=DEFAULT_DATASETS)
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS), help="scene sets with plate text")
    ap.add_argument("--split", default="val", choices=["val", "test", "train", "all"])
    ap.add_argument("--out", default=None, help="folder (default eval-clips/SPLIT); git-ignored, never commit it")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--limit", type=int, default=0, help="at most this many vehicles per clip (0 = all)")
    ap.add_argument("--truth-only", action="store_true", help="rewrite passes.json, keep the clips (after a truth-format change)")
    args = ap.parse_args(argv)
    out_dir = args.out or os.path.join(REPO, "eval-clips", args.split)
    os.makedirs(out_dir, exist_ok=True)
    scenes = load_scenes(args.datasets, args.sets.split(","), args.split)
    if args.limit:
        scenes = scenes[:args.limit]
    if not scenes:
        raise SystemExit("no labelled scenes with one plate text in that split")
    clips = []
    for name in args.scenarios.split(","):
        make, w, h, fps = SCENARIOS[name]
        path = os.path.join(out_dir, name + ".mp4")
        enc = NullEncoder() if args.truth_only else open_encoder(path, w, h, fps)
        vehicles, frames = make(scenes, enc, w, h, fps)
        enc.stdin.close()
        if enc.wait() != 0:
            raise SystemExit("gst-launch-1.0 failed")
        clips.append(dict(file=name + ".mp4", scenario=name, width=w, height=h, fps=fps, frames=frames, vehicles=vehicles))
        print(f"pass clips: {name}: {len(vehicles)} vehicles, {frames} frames", file=sys.stderr)
    with open(os.path.join(out_dir, "passes.json"), "w") as f:
        json.dump(dict(version=1, split=args.split, sets=args.sets.split(","), clips=clips), f)
    print(f"pass clips: wrote {len(clips)} clips to {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
