#!/usr/bin/python3
"""Demo clip: synthetic vehicles passing a fixed camera, each showing a synthetic US plate.

Writes an H.264 MP4 (via gst-launch-1.0) and a JSON sidecar with the ground truth of every pass.
The scene is drawn here from primitives and plates come from plates.py, so the clip holds no
third-party imagery and no real registrations. Output is deterministic for a given seed and size.

    /usr/bin/python3 scripts/synth/make_clip.py --seed 7
    /usr/bin/python3 scripts/synth/make_clip.py --width 1920 --height 1080 --fps 30 --out /tmp/clip1080.mp4

Scene model (2.5-D, in 720p pixels, scaled for other sizes): a vehicle at distance Z shows its plate
`w = 1/Z` wide; its ground contact is at y = HORIZON + SLOPE * w and its lateral offset X (in plate
widths) puts it at x = centre + X * w. The road rises to a crest, so far vehicles disappear behind
it; that gives clean gaps with no plate in view between passes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import struct
import sys
from dataclasses import dataclass, field

import cv2
import numpy as np

if not __package__:  # run as a file, not with -m: `scripts` is imported from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from scripts.common.paths import REPO  # noqa: E402
from scripts.common.video import open_h264_encoder  # noqa: E402
from scripts.synth import plates  # noqa: E402

DEFAULT_OUT = os.path.join(REPO, "test/fixtures/demo/clip.mp4")

# Geometry in 720p pixels / plate-width units.
HORIZON = 280.0      # vanishing point row
SLOPE = 1.7          # ground row moves this many px per px of plate width (> PLATE_H + 0.25: camera above the plate)
CREST_W = 130.0      # plate width where the road crests; beyond it the ground drops away
SINK = 10.0          # how fast a vehicle beyond the crest drops out of sight
LANE_X = 1.2         # lane centre, plate widths right of the optical axis
PLATE_H = 1.25       # plate centre height above the ground, in plate widths
LEGIBLE = (140.0, 260.0)  # plate widths the demo promises to show clearly
MIN_GAP = 1.2        # seconds with no plate in view between passes

# Units: one plate width. A 1.8 m car is 4.5 plates wide here, so plates look ~1.3x real size,
# which keeps them large for the reader without making the cars look like toys.
CAR_HALF_W = 2.25

PASSES = [  # (state, facing): FL and AZ issue rear plates only, so those cars drive away
    ("CA", "front"), ("TX", "rear"), ("FL", "rear"), ("NY", "front"), ("WA", "front"), ("AZ", "rear"),
]
BODY_PALETTE = [(32, 34, 38), (200, 202, 206), (150, 22, 28), (24, 48, 104), (236, 236, 232),
                (84, 88, 94), (30, 72, 56), (170, 150, 120), (110, 20, 40)]


@dataclass
class Geometry:
    width: int
    height: int

    @property
    def s(self) -> float:  # scale from 720p
        return self.height / 720.0

    @property
    def cx(self) -> float:
        return self.width / 2.0

    @property
    def crest_y(self) -> float:
        return (HORIZON + SLOPE * CREST_W) * self.s

    def ground_y(self, w: float) -> float:
        """Ground contact row for a vehicle whose plate is w px wide (720p units)."""
        if w >= CREST_W:
            return (HORIZON + SLOPE * w) * self.s
        return self.crest_y + SINK * (CREST_W - w) * self.s

    def screen_x(self, X: float, w: float) -> float:
        return self.cx + X * w * self.s

    def plate_box(self, w: float, X: float) -> tuple[float, float, float, float]:
        pw = w * self.s
        x = self.screen_x(X, w) - pw / 2
        y = self.ground_y(w) - PLATE_H * pw - pw / 4
        return x, y, pw, pw / 2

    def visible_part(self, box, w: float) -> tuple[float, tuple[float, float, float, float]]:
        """Fraction of the plate in view (inside the frame, not behind the crest) and that part's box."""
        x, y, bw, bh = box
        x0, y0 = max(0.0, x), max(0.0, y)
        x1 = min(float(self.width), x + bw)
        y1 = min(float(self.height), y + bh)
        if w < CREST_W:
            y1 = min(y1, self.crest_y)
        if x1 <= x0 or y1 <= y0:
            return 0.0, (0, 0, 0, 0)
        return (x1 - x0) * (y1 - y0) / (bw * bh), (x0, y0, x1 - x0, y1 - y0)


# ---------------------------------------------------------------- static background

def noise_field(nrng: np.random.Generator, h: int, w: int, cell: float, amp: float) -> np.ndarray:
    coarse = nrng.normal(0, amp, (max(2, int(h / cell) + 2), max(2, int(w / cell) + 2))).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def draw_sky_and_skyline(img: np.ndarray, geo: Geometry, rng: random.Random, nrng) -> None:
    H, W = img.shape[:2]
    s = geo.s
    crest = int(geo.crest_y)
    t = np.linspace(0, 1, crest, dtype=np.float32)[:, None, None]
    img[:crest] = np.float32([118, 160, 214]) * (1 - t) + np.float32([206, 218, 232]) * t
    for _ in range(7):  # soft clouds
        m = np.zeros((crest, W), np.float32)
        cv2.ellipse(m, (rng.randrange(W), int(rng.uniform(0.05, 0.45) * crest)),
                    (int(rng.uniform(80, 220) * s), int(rng.uniform(14, 34) * s)), 0, 0, 360, 1.0, -1)
        m = cv2.GaussianBlur(m, (0, 0), 18 * s) * 0.55
        img[:crest] += (np.float32([245, 246, 250]) - img[:crest]) * m[..., None]
    # Distant buildings: flat blocks with window grids. No signs, so nothing reads as text.
    x = -rng.uniform(0, 60) * s
    while x < W:
        bw = rng.uniform(60, 170) * s
        top = int(rng.uniform(HORIZON - 140, CREST_W * SLOPE + HORIZON - 70) * s)
        base = np.float32(rng.choice([(150, 146, 140), (120, 126, 136), (176, 164, 148), (98, 104, 112),
                                      (140, 120, 104), (190, 188, 182)]))
        x0, x1 = int(x), int(x + bw)
        img[top:crest, max(0, x0):min(W, x1)] = base
        img[top:top + max(2, int(4 * s)), max(0, x0):min(W, x1)] = base * 0.8  # roof edge
        wy = top + int(10 * s)
        cell_w, cell_h = rng.uniform(12, 18) * s, rng.uniform(14, 20) * s
        while wy + cell_h * 0.6 < crest:
            wx = x0 + 6 * s
            while wx + cell_w * 0.6 < x1 - 4 * s:
                lit = rng.random() < 0.15
                colour = np.float32((200, 196, 160) if lit else (70, 84, 100)) * rng.uniform(0.85, 1.1)
                a0, a1 = int(wx), int(wx + cell_w * 0.6)
                img[int(wy):int(wy + cell_h * 0.6), max(0, a0):max(0, min(W, a1))] = colour
                wx += cell_w
            wy += cell_h
        x += bw + rng.uniform(-10, 30) * s
    # Tree line along the crest hides the building bases.
    for _ in range(int(W / (18 * s))):
        cx, r = rng.uniform(0, W), rng.uniform(14, 34) * s
        cy = crest - r * rng.uniform(0.2, 0.9)
        shade = np.float32(rng.choice([(52, 90, 48), (64, 104, 56), (44, 78, 44), (76, 110, 60)]))
        cv2.circle(img, (int(cx), int(cy)), int(r), tuple(float(c) for c in shade), -1, cv2.LINE_AA)
    img[:crest] += noise_field(nrng, crest, W, 3 * s, 1.5)[..., None]


def draw_road(img: np.ndarray, geo: Geometry, rng: random.Random, nrng) -> None:
    H, W = img.shape[:2]
    s = geo.s
    crest = int(geo.crest_y)
    ys = np.arange(crest, H, dtype=np.float32)[:, None]
    xs = np.arange(W, dtype=np.float32)[None, :]
    w = (ys / s - HORIZON) / SLOPE           # plate width at each row (720p units)
    X = (xs - geo.cx) / (w * s)              # lateral ground coordinate of each pixel
    Z = 1.0 / w                              # depth, for markings that repeat along the road
    rows = H - crest
    region = np.empty((rows, W, 3), np.float32)

    asphalt = np.float32([92, 92, 96])
    region[:] = asphalt
    grain = noise_field(nrng, rows, W, 1.2 * s, 4) + noise_field(nrng, rows, W, 12 * s, 5)
    region += grain[..., None]
    # Tyre tracks are a little darker and smoother; patches and tar seams break up the surface.
    for track in (LANE_X - 1.7, LANE_X + 1.7):
        region *= (1 - 0.07 * np.exp(-((X - track) / 0.6) ** 2))[..., None]
    patch = np.zeros((rows, W), np.float32)
    for _ in range(4):
        px, pz = rng.uniform(-3, 4), rng.uniform(1 / 280, 1 / 140)
        inside = (np.abs(X - px) < rng.uniform(0.6, 1.6)) & (np.abs(Z - pz) < rng.uniform(0.0004, 0.0012))
        patch[inside] = rng.uniform(-9, 6)
    region += cv2.GaussianBlur(patch, (0, 0), 1.5)[..., None]

    def paint(mask, colour, alpha=1.0):
        region[:] += (np.float32(colour) - region) * (mask.astype(np.float32) * alpha)[..., None]

    # Worn white edge lines, a kerb and a concrete footway on the right, grass verge on the left.
    wear = np.clip(0.75 + noise_field(nrng, rows, W, 2 * s, 0.25), 0, 1)
    paint((X > -4.0) & (X < -3.82), (214, 214, 208), 0.9 * wear)
    paint((X > 4.05) & (X < 4.22), (214, 214, 208), 0.9 * wear)
    paint(X < -4.5, (84, 112, 60))
    paint((X >= -4.5) & (X < -4.2), (120, 114, 100))
    region[X < -4.5] += (noise_field(nrng, rows, W, 1.5 * s, 14)[..., None] * np.float32([0.6, 1, 0.5]))[X < -4.5]
    paint((X > 4.45) & (X < 4.6), (150, 150, 146))
    paint((X >= 4.6) & (X < 4.85), (196, 196, 190))
    footway = X >= 4.85
    paint(footway, (176, 174, 168))
    joints = footway & (np.abs((Z * 2200) % 1.0 - 0.5) > 0.47)
    paint(joints, (130, 128, 124))
    # The surface tilts towards the sky near the crest, so it catches more light there.
    region *= (1 + 0.12 * np.exp(-(ys - crest) / (40 * s)))[..., None]
    img[crest:] = region


def build_background(geo: Geometry, seed: int) -> np.ndarray:
    rng = random.Random(seed * 7919 + 1)
    nrng = plates.random_np(rng)
    img = np.zeros((geo.height, geo.width, 3), np.float32)
    draw_sky_and_skyline(img, geo, rng, nrng)
    draw_road(img, geo, rng, nrng)
    # Slight lens vignetting.
    yy, xx = np.mgrid[0:geo.height, 0:geo.width].astype(np.float32)
    r2 = ((xx - geo.cx) / geo.width) ** 2 + ((yy - geo.height / 2) / geo.height) ** 2
    img *= (1 - 0.35 * r2)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- vehicles

@dataclass
class Vehicle:
    sprite: np.ndarray         # uint8 RGBA
    unit: float                # sprite pixels per plate width
    anchor: tuple[float, float]  # sprite pixel of the ground point under the plate
    label: str
    state: str


@dataclass
class Mask:
    """Coverage 0..1 of a shape, stored only over its bounding box (sprites are large)."""
    m: np.ndarray
    y0: int
    x0: int

    def __mul__(self, other: "Mask") -> "Mask":
        assert (self.y0, self.x0, self.m.shape) == (other.y0, other.x0, other.m.shape)
        return Mask(self.m * other.m, self.y0, self.x0)


class SpriteCanvas:
    """Float RGBA canvas addressed in plate-width units: x across (0 = plate centre), h above ground."""

    LEFT, TOP = 2.7, 4.3

    def __init__(self, unit: float):
        self.u = unit
        self.w = int(math.ceil(2 * self.LEFT * unit))
        self.h = int(math.ceil((self.TOP + 0.15) * unit))
        self.rgb = np.zeros((self.h, self.w, 3), np.float32)
        self.alpha = np.zeros((self.h, self.w), np.float32)

    def pt(self, x: float, h: float) -> tuple[float, float]:
        return (x + self.LEFT) * self.u, (self.TOP - h) * self.u

    def mask(self, pts, rounded: float = 0.0, like: Mask | None = None) -> Mask:
        """Antialiased polygon; `rounded` softens corners (units); `like` reuses another mask's box."""
        px = np.float32([self.pt(x, h) for x, h in pts])
        if like is not None:
            y0, x0 = like.y0, like.x0
            hh, ww = like.m.shape
        else:
            pad = int(3 * rounded * self.u) + 3
            x0, y0 = max(0, int(px[:, 0].min()) - pad), max(0, int(px[:, 1].min()) - pad)
            ww = min(self.w, int(px[:, 0].max()) + pad + 1) - x0
            hh = min(self.h, int(px[:, 1].max()) + pad + 1) - y0
        m = np.zeros((hh, ww), np.float32)
        poly = np.int32(np.round((px - np.float32([x0, y0])) * 8))  # 3-bit subpixel precision
        cv2.fillPoly(m, [poly], 1.0, cv2.LINE_AA, shift=3)
        if rounded:
            m = cv2.GaussianBlur(m, (0, 0), rounded * self.u)
            m = np.clip((m - 0.5) * 4 + 0.5, 0, 1)
        return Mask(m, y0, x0)

    def fill(self, mk: Mask, colour, top=None, h0=None, h1=None, opacity: float = 1.0) -> None:
        """Paint colour (or a vertical gradient colour->top between heights h0..h1) through a mask."""
        hh, ww = mk.m.shape
        sl = (slice(mk.y0, mk.y0 + hh), slice(mk.x0, mk.x0 + ww))
        c = np.float32(colour)
        if top is not None:
            ya, yb = self.pt(0, h0)[1], self.pt(0, h1)[1]
            rows = np.arange(mk.y0, mk.y0 + hh, dtype=np.float32)
            t = np.clip((rows - yb) / max(1.0, ya - yb), 0, 1)[:, None, None]
            c = np.float32(top) * (1 - t) + c * t
        m = mk.m * opacity
        self.rgb[sl] += (c - self.rgb[sl]) * m[..., None]
        self.alpha[sl] = np.maximum(self.alpha[sl], m)

    def rect(self, x0, h0, x1, h1, rounded=0.0):
        return self.mask([(x0, h0), (x1, h0), (x1, h1), (x0, h1)], rounded)

    def sym(self, pts_right):
        """Polygon symmetric about the plate axis, given its right half from bottom to top."""
        return [(x, h) for x, h in pts_right] + [(-x, h) for x, h in reversed(pts_right)]


def body_shape(kind: str) -> dict:
    if kind == "suv":
        return dict(bumper=(0.55, 1.25), body_top=2.35, roof=3.95, glass=(2.45, 3.75), roof_half=1.75, glass_half=(1.9, 1.6))
    if kind == "hatch":
        return dict(bumper=(0.45, 1.1), body_top=1.95, roof=3.4, glass=(2.05, 3.25), roof_half=1.6, glass_half=(1.8, 1.45))
    return dict(bumper=(0.45, 1.08), body_top=1.95, roof=3.1, glass=(2.05, 2.97), roof_half=1.5, glass_half=(1.85, 1.38))


def make_vehicle(rng: random.Random, state: str, text: str | None, facing: str, kind: str,
                 colour, unit: float) -> Vehicle:
    c = SpriteCanvas(unit)
    body = np.float32(colour)
    shape = body_shape(kind)
    dark = (26, 26, 30)
    # Tyres, visible under the body from straight behind/ahead.
    for sx in (-1, 1):
        c.fill(c.rect(sx * 1.45, 0.0, sx * 2.05, 0.9, rounded=0.05), dark)
    # Lower body and bumper.
    b0, b1 = shape["bumper"]
    c.fill(c.mask(c.sym([(2.15, 0.32), (2.25, 0.6), (2.25, b0 + 0.1)]), rounded=0.03), (40, 40, 44))
    c.fill(c.mask(c.sym([(2.22, b0 - 0.1), (2.28, b1), (2.25, shape["body_top"]), (2.1, shape["body_top"] + 0.08)]), rounded=0.06),
           body * 0.78, top=body * 1.08, h0=b0, h1=shape["body_top"])
    c.fill(c.rect(-2.2, b0 - 0.05, 2.2, b0 + 0.1), body * 0.55)  # bumper lower crease
    c.fill(c.rect(-2.25, b1 - 0.02, 2.25, b1 + 0.04), body * 1.15 + 10, opacity=0.7)  # bumper top highlight
    # Cabin and glass.
    top = shape["body_top"]
    c.fill(c.mask(c.sym([(2.05, top), (shape["roof_half"], shape["roof"])]), rounded=0.08), body * 0.92, top=body * 1.05, h0=top, h1=shape["roof"])
    g0, g1 = shape["glass"]
    gh0, gh1 = shape["glass_half"]
    glass = c.mask(c.sym([(gh0, g0), (gh1, g1)]), rounded=0.05)
    if facing == "rear":
        c.fill(glass, (34, 40, 48), top=(70, 84, 98), h0=g0, h1=g1)
        c.fill(c.rect(-0.35, g1 - 0.1, 0.35, g1 - 0.02), (200, 30, 34))  # third brake light
    else:
        c.fill(glass, (60, 70, 82), top=(140, 160, 180), h0=g0, h1=g1)
    streak = c.mask([(-0.9, g0 + 0.1), (-0.3, g0 + 0.1), (0.4, g1 - 0.1), (-0.2, g1 - 0.1)], like=glass)
    c.fill(streak * glass, (220, 228, 236), opacity=0.14)
    lamp_h0, lamp_h1 = b1 + 0.3, min(top - 0.05, b1 + 0.75)
    if facing == "rear":
        for sx in (-1, 1):
            c.fill(c.mask([(sx * 1.35, lamp_h0), (sx * 2.22, lamp_h0 + 0.05), (sx * 2.22, lamp_h1), (sx * 1.45, lamp_h1)], rounded=0.03), (150, 14, 20))
            c.fill(c.rect(sx * 1.55, lamp_h0 + 0.12, sx * 2.1, lamp_h1 - 0.1), (226, 52, 48))
            c.fill(c.rect(sx * 1.42, lamp_h0 + 0.08, sx * 1.58, lamp_h1 - 0.12), (226, 226, 222))
        c.fill(c.rect(-1.2, lamp_h1 + 0.08, 1.2, lamp_h1 + 0.11), body * 0.6)  # boot lid shut line
    else:
        c.fill(c.rect(-1.05, lamp_h0, 1.05, lamp_h1, rounded=0.04), (30, 30, 34))  # grille
        for i in range(4):
            hh = lamp_h0 + (i + 0.5) * (lamp_h1 - lamp_h0) / 4
            c.fill(c.rect(-1.0, hh - 0.015, 1.0, hh + 0.015), (90, 92, 96))
        for sx in (-1, 1):
            c.fill(c.mask([(sx * 1.2, lamp_h0), (sx * 2.2, lamp_h0 + 0.08), (sx * 2.2, lamp_h1), (sx * 1.2, lamp_h1)], rounded=0.03), (60, 62, 66))
            c.fill(c.rect(sx * 1.35, lamp_h0 + 0.1, sx * 2.05, lamp_h1 - 0.08, rounded=0.03), (236, 238, 240))
            c.fill(c.rect(sx * 1.5, lamp_h0 + 0.16, sx * 1.75, lamp_h1 - 0.14, rounded=0.02), (252, 252, 246))
    for sx in (-1, 1):  # door mirrors
        c.fill(c.mask([(sx * 2.1, top + 0.05), (sx * 2.55, top + 0.12), (sx * 2.5, top + 0.42), (sx * 2.1, top + 0.38)], rounded=0.03), body * 0.85)
    # Rounded body: darken towards the sides.
    xs = (np.arange(c.w, dtype=np.float32) / c.u - c.LEFT) / 2.3
    c.rgb *= (1 - 0.18 * xs ** 2)[None, :, None]
    # Plate in a recess, lit by its lamp.
    c.fill(c.rect(-0.6, 0.93, 0.6, 1.57, rounded=0.03), body * 0.45)
    spec = plates.sample_spec(rng, state, text, varied=False)
    spec.slogan = False   # the slogan is tiny at camera size and only distracts a text reader
    spec.frame = None
    plate = plates.draw_plate(spec, rng, width=int(round(unit)))
    px, py = c.pt(-0.5, PLATE_H + 0.25)
    x0, y0 = int(round(px)), int(round(py))
    ph, pw = plate.shape[:2]
    a = plate[..., 3:]
    c.rgb[y0:y0 + ph, x0:x0 + pw] = c.rgb[y0:y0 + ph, x0:x0 + pw] * (1 - a) + plate[..., :3] * 0.96 * a
    c.alpha[y0:y0 + ph, x0:x0 + pw] = np.maximum(c.alpha[y0:y0 + ph, x0:x0 + pw], a[..., 0])
    sprite = np.dstack([np.clip(c.rgb, 0, 255), np.clip(c.alpha * 255, 0, 255)]).astype(np.uint8)
    anchor = ((0 + c.LEFT) * unit, c.TOP * unit)
    return Vehicle(sprite, unit, anchor, spec.label, spec.state)


def draw_shadow(frame: np.ndarray, geo: Geometry, w: float, X: float) -> None:
    if w < CREST_W:
        return
    pw = w * geo.s
    cx, cy = geo.screen_x(X, w), geo.ground_y(w)
    ax, ay = 2.5 * pw, 0.32 * pw
    x0, x1 = int(max(0, cx - ax * 1.3)), int(min(geo.width, cx + ax * 1.3))
    y0, y1 = int(max(0, cy - ay * 2)), int(min(geo.height, cy + ay * 2))
    if x1 <= x0 or y1 <= y0:
        return
    m = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.ellipse(m, (int(cx - x0), int(cy - y0 - ay * 0.3)), (int(ax), int(ay)), 0, 0, 360, 1.0, -1)
    m = cv2.GaussianBlur(m, (0, 0), max(1.0, ay * 0.5))
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = np.clip(roi * (1 - 0.75 * m[..., None]), 0, 255).astype(np.uint8)


def composite(frame: np.ndarray, geo: Geometry, v: Vehicle, w: float, X: float,
              motion: tuple[float, float] = (0.0, 0.0), nrng=None) -> None:
    """Draw vehicle v with its plate w px wide (720p units) at lateral offset X onto frame (uint8)."""
    scale = w * geo.s / v.unit
    gx, gy = geo.screen_x(X, w), geo.ground_y(w)
    sh, sw = v.sprite.shape[:2]
    left, top = gx - v.anchor[0] * scale, gy - v.anchor[1] * scale
    bottom_limit = geo.height if w >= CREST_W else int(geo.crest_y)
    x0, y0 = max(0, int(math.floor(left))), max(0, int(math.floor(top)))
    x1, y1 = min(geo.width, int(math.ceil(left + sw * scale))), min(bottom_limit, int(math.ceil(top + sh * scale)))
    if x1 <= x0 or y1 <= y0:
        return
    # Crop the sprite to what is on screen before resizing: near vehicles are mostly off-frame.
    sx0 = max(0, int(math.floor((x0 - left) / scale)) - 2)
    sy0 = max(0, int(math.floor((y0 - top) / scale)) - 2)
    sx1 = min(sw, int(math.ceil((x1 - left) / scale)) + 2)
    sy1 = min(sh, int(math.ceil((y1 - top) / scale)) + 2)
    crop = v.sprite[sy0:sy1, sx0:sx1]
    out_w = max(1, int(round((sx1 - sx0) * scale)))
    out_h = max(1, int(round((sy1 - sy0) * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    patch = cv2.resize(crop, (out_w, out_h), interpolation=interp).astype(np.float32)
    alpha = patch[..., 3] / 255.0
    rgb = patch[..., :3] * alpha[..., None]  # premultiplied so blurs do not leak dark fringes
    # A real camera: short exposure smear along the motion, a touch of defocus, sensor noise.
    length = math.hypot(*motion)
    if length > 1.0:
        k = plates.motion_kernel(length, math.degrees(math.atan2(motion[1], motion[0])))
        rgb = cv2.filter2D(rgb, -1, k)
        alpha = cv2.filter2D(alpha, -1, k)
    rgb = cv2.GaussianBlur(rgb, (0, 0), 0.45 * geo.s)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.45 * geo.s)[..., None]
    px0 = int(round(left + sx0 * scale))
    py0 = int(round(top + sy0 * scale))
    # Intersect the resized patch with the visible frame window.
    fx0, fy0 = max(x0, px0), max(y0, py0)
    fx1, fy1 = min(x1, px0 + out_w), min(y1, py0 + out_h)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    p = (slice(fy0 - py0, fy1 - py0), slice(fx0 - px0, fx1 - px0))
    roi = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    out = roi * (1 - alpha[p]) + rgb[p]
    if nrng is not None:
        out += nrng.normal(0, 1.6, out.shape[:2]).astype(np.float32)[..., None] * alpha[p]
    frame[fy0:fy1, fx0:fx1] = np.clip(out, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- timeline

def lateral(w: float, lane_x: float) -> float:
    """Close to the camera the vehicle swings out to pass beside the pole and leave the frame."""
    return lane_x + 3.2 * max(0.0, (w - 250.0) / 150.0) ** 2


@dataclass
class Pass:
    state: str
    facing: str
    vehicle: Vehicle
    lane_x: float
    start: int                         # first frame of the vehicle's path
    widths: list[float] = field(default_factory=list)  # plate width per frame of the path

    @property
    def direction(self) -> str:
        return "toward" if self.facing == "front" else "away"


def path_widths(facing: str, fps: float, speed: float) -> list[float]:
    """Plate widths frame by frame; constant speed means linear in depth 1/w."""
    near, far = 1 / 420.0, 1 / 88.0
    n = int(math.ceil((far - near) / speed * fps)) + 1
    zs = [far - (far - near) * i / (n - 1) for i in range(n)]
    if facing == "rear":
        zs.reverse()
    return [1 / z for z in zs]


def plan(seed: int, fps: float, geo: Geometry) -> list[Pass]:
    rng = random.Random(seed)
    passes = []
    frame = int(round(0.5 * fps))
    colours = BODY_PALETTE[:]
    rng.shuffle(colours)
    for i, (state, facing) in enumerate(PASSES):
        # Depth speed (1/px per second) chosen so 140..260 px lasts about 1.7 s.
        speed = (1 / LEGIBLE[0] - 1 / LEGIBLE[1]) / rng.uniform(1.65, 1.85)
        kind = rng.choice(["sedan", "sedan", "suv", "hatch"])
        unit = 320.0  # sprite resolution: only the last frames before exit upscale it
        text = plates.random_plate_text(rng, state)
        vehicle = make_vehicle(rng, state, text, facing, kind, colours[i % len(colours)], unit)
        widths = path_widths(facing, fps, speed)
        p = Pass(state, facing, vehicle, LANE_X + rng.uniform(-0.25, 0.25), frame, widths)
        if passes:
            # One vehicle at a time, and at least MIN_GAP s between one plate leaving and the next appearing.
            prev = pass_truth(passes[-1], geo)
            first_seen = pass_truth(p, geo)["firstFrame"] - p.start
            p.start = max(p.start, prev["lastFrame"] + 1 + int(math.ceil(MIN_GAP * fps)) - first_seen)
        passes.append(p)
        frame = p.start + len(widths) + int(round(rng.uniform(0.0, 0.3) * fps))
    return passes


def pass_truth(p: Pass, geo: Geometry) -> dict:
    seen, legible, boxes = [], [], {}
    for i, w in enumerate(p.widths):
        box = geo.plate_box(w, lateral(w, p.lane_x))
        frac, vis = geo.visible_part(box, w)
        if frac >= 0.5:
            seen.append(p.start + i)
            boxes[p.start + i] = vis
        if frac >= 0.999 and LEGIBLE[0] <= w <= LEGIBLE[1]:
            legible.append(p.start + i)
    mid = (seen[0] + seen[-1]) // 2
    x, y, bw, bh = boxes[mid]
    return {
        "text": p.vehicle.label, "state": p.state, "direction": p.direction,
        "firstFrame": seen[0], "lastFrame": seen[-1],
        "plateBoxAtMid": [int(round(x)), int(round(y)), int(round(bw)), int(round(bh))],
        "legibleFrames": [legible[0], legible[-1]],
    }


def check_truth(truth: list[dict], fps: float) -> None:
    """The promises the demo makes to the reader tests; fail loudly if a tweak breaks one."""
    for t in truth:
        n = t["legibleFrames"][1] - t["legibleFrames"][0] + 1
        assert n >= 1.5 * fps, f"{t['state']}: only {n} legible frames"
    for a, b in zip(truth, truth[1:]):
        assert b["firstFrame"] - a["lastFrame"] - 1 >= fps, f"gap before {b['state']} too short"


# ---------------------------------------------------------------- encoding

def open_encoder(path: str, geo: Geometry, fps: int, bitrate: int):
    return open_h264_encoder(path, geo.width, geo.height, fps, bitrate, "medium")


def zero_mp4_times(path: str) -> None:
    """mp4mux stamps wall-clock creation times; zero them so reruns give identical bytes."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())

        def walk(start: int, end: int) -> None:
            pos = start
            while pos + 8 <= end:
                size, kind = struct.unpack(">I4s", data[pos:pos + 8])
                if size < 8:
                    break
                if kind in (b"moov", b"trak", b"mdia"):
                    walk(pos + 8, pos + size)
                elif kind in (b"mvhd", b"tkhd", b"mdhd"):
                    width = 8 if data[pos + 8] == 1 else 4
                    data[pos + 12:pos + 12 + 2 * width] = bytes(2 * width)
                pos += size

        walk(0, len(data))
        f.seek(0)
        f.write(data)


# ---------------------------------------------------------------- main

def render(out: str, geo: Geometry, fps: int, seed: int, bitrate: int) -> dict:
    passes = plan(seed, fps, geo)
    truth = [pass_truth(p, geo) for p in passes]
    check_truth(truth, fps)
    total = passes[-1].start + len(passes[-1].widths) + int(round(0.5 * fps))
    background = build_background(geo, seed)
    nrng = np.random.default_rng(seed)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    enc = open_encoder(out, geo, fps, bitrate)
    shutter = 0.25  # fraction of the frame interval the sensor integrates (ALPR cameras expose short)
    for f in range(total):
        frame = background.copy()
        for p in passes:
            i = f - p.start
            if 0 <= i < len(p.widths):
                w = p.widths[i]
                X = lateral(w, p.lane_x)
                wn = p.widths[min(i + 1, len(p.widths) - 1)]
                motion = ((geo.screen_x(lateral(wn, p.lane_x), wn) - geo.screen_x(X, w)) * shutter,
                          (geo.ground_y(wn) - PLATE_H * wn * geo.s - geo.ground_y(w) + PLATE_H * w * geo.s) * shutter)
                draw_shadow(frame, geo, w, X)
                composite(frame, geo, p.vehicle, w, X, motion, nrng)
        enc.stdin.write(frame.tobytes())
        if f % 50 == 0:
            print(f"clip: frame {f}/{total}", file=sys.stderr)
    enc.stdin.close()
    if enc.wait() != 0:
        raise SystemExit("gst-launch-1.0 failed")
    zero_mp4_times(out)
    return {"width": geo.width, "height": geo.height, "fps": fps, "frames": total, "passes": truth}


def format_meta(meta: dict) -> str:
    """JSON with one line per pass, so diffs of the ground truth stay readable."""
    head = {k: v for k, v in meta.items() if k != "passes"}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    passes = ",\n".join(f"    {json.dumps(p)}" for p in meta["passes"])
    return "{\n" + "\n".join(lines) + '\n  "passes": [\n' + passes + "\n  ]\n}\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Render the synthetic demo clip and its ground truth.")
    ap.add_argument("--out", default=DEFAULT_OUT, help="MP4 path; the JSON goes next to it")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=int, default=15)
    ap.add_argument("--bitrate", type=int, help="kbit/s (default scales 1000 at 720p15 by pixels and fps)")
    args = ap.parse_args(argv)
    geo = Geometry(args.width, args.height)
    bitrate = args.bitrate or int(1000 * (args.width * args.height) / (1280 * 720) * math.sqrt(args.fps / 15))
    meta = render(args.out, geo, args.fps, args.seed, bitrate)
    cmd = ["scripts/synth/make_clip.py", "--seed", str(args.seed)]
    if (args.width, args.height, args.fps) != (1280, 720, 15):
        cmd += ["--width", str(args.width), "--height", str(args.height), "--fps", str(args.fps)]
    if args.bitrate:
        cmd += ["--bitrate", str(args.bitrate)]
    meta = {**{k: meta[k] for k in ("width", "height", "fps", "frames")}, "generator": " ".join(cmd),
            "passes": meta["passes"]}
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        f.write(format_meta(meta))
    size = os.path.getsize(args.out)
    print(f"clip: wrote {args.out} ({size / 1e6:.2f} MB, {meta['frames']} frames)", file=sys.stderr)


if __name__ == "__main__":
    main()
