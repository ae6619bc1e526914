#!/usr/bin/python3
"""Synthetic US licence plates: a small library and a CLI that writes labelled crops.

Everything is drawn by this file from fonts in /usr/share/fonts, so the output carries no
third-party image data and no real registrations (texts are random draws from per-state
patterns). All randomness flows from the `random.Random` the caller passes in, which keeps the
output reproducible for a given seed.

Library use (from the repo root, see scripts/__init__.py):

    from scripts.synth.plates import render_plate, random_plate_text, STATES
    image, label, state = render_plate(random.Random(1), state="CA")

CLI:

    /usr/bin/python3 scripts/synth/plates.py --out DIR --count N --seed S
    /usr/bin/python3 scripts/synth/plates.py --contact-sheet docs/img/synth-contact-sheet.png
"""
from __future__ import annotations

import argparse
import functools
import glob
import json
import math
import os
import random
import string
import sys
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Base canvas: 12x6 inch plate at 40 px per inch. Geometry below is in fractions of it.
BASE_W = 480
BASE_H = 240

# ALPR_FONT_DIR: the same fonts elsewhere (a lent GPU machine has none; scripts/train/gpu_kit.py carries them).
FONT_DIR = os.environ.get("ALPR_FONT_DIR", "/usr/share/fonts/truetype")
FONT_FILES = {
    "dejavu-bold": "dejavu/DejaVuSans-Bold.ttf",
    "dejavu-cond-bold": "dejavu/DejaVuSansCondensed-Bold.ttf",
    "liberation-bold": "liberation/LiberationSans-Bold.ttf",
    "liberation-narrow-bold": "liberation/LiberationSansNarrow-Bold.ttf",
    "freesans-bold": "freefont/FreeSansBold.ttf",
    "serif-bold": "dejavu/DejaVuSerif-Bold.ttf",
    "serif-bold-italic": "liberation/LiberationSerif-BoldItalic.ttf",
    "sans-bold-italic": "freefont/FreeSansBoldOblique.ttf",
    "sans": "dejavu/DejaVuSans.ttf",
}
# Stand-ins if a distro ships a different subset of the same families.
FONT_FALLBACK_GLOBS = ["dejavu/DejaVuSans-Bold.ttf", "*/*Sans*Bold*.ttf", "*/*.ttf"]

# US issuers mostly skip I, O and Q on standard plates because they read as 1 and 0.
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"

NAVY = (22, 32, 96)
BLUE = (28, 64, 150)
BLACK = (22, 22, 24)
MAROON = (112, 24, 36)
RED = (176, 32, 36)
DKGREEN = (18, 84, 48)
GREEN = (40, 120, 60)
WHITE = (246, 246, 242)
CREAM = (248, 242, 222)
GOLD = (236, 190, 70)
ORANGE = (232, 128, 40)
SKY = (200, 222, 244)
BROWN = (96, 56, 30)
PURPLE = (84, 40, 120)


def layout(name, patterns, text=NAVY, bg=WHITE, banner=None, pos="top", slogan="",
           font="dejavu-cond-bold", banner_font="serif-bold", art=None, band=None,
           stacked=True, upper=True):
    """One state's look. bg is a colour or a (top, bottom) gradient; band fills behind the banner."""
    return {
        "name": name.upper() if upper else name,
        "patterns": patterns,
        "text": text,
        "bg": bg if isinstance(bg[0], tuple) else (bg, bg),
        "banner": banner or text,
        "pos": pos,
        "slogan": slogan,
        "font": font,
        "banner_font": banner_font,
        "art": art,
        "band": band,
        "stacked": stacked,
    }


# Pattern letters: L = letter, D = digit, N = digit 1-9; space and dash are printed but not part
# of the label.
LAYOUTS = {
    "AL": layout("Alabama", ["DDLDDDL", "DDL DDDD"], text=NAVY, bg=(WHITE, SKY), slogan="Sweet Home Alabama", banner_font="serif-bold-italic", upper=False),
    "AK": layout("Alaska", ["LLL DDD"], text=BLUE, bg=(WHITE, CREAM), banner=BLUE, slogan="The Last Frontier", art="mountains", font="freesans-bold"),
    "AZ": layout("Arizona", ["LLL DDDD", "LLLDDDD"], text=MAROON, bg=((214, 232, 246), (250, 212, 150)), banner=MAROON, slogan="Grand Canyon State", art="sun", font="liberation-narrow-bold"),
    "AR": layout("Arkansas", ["DDD LLL", "LLL DDL"], text=NAVY, bg=(WHITE, (226, 234, 248)), banner=RED, slogan="The Natural State", art="diamond"),
    "CA": layout("California", ["NLLLDDD"], text=NAVY, bg=WHITE, banner=RED, banner_font="serif-bold-italic", slogan="dmv.ca.gov", font="dejavu-cond-bold", upper=False, stacked=False),
    "CO": layout("Colorado", ["LLL-LDD", "DDD-LLL"], text=WHITE, bg=(DKGREEN, (30, 100, 60)), banner=WHITE, art="mountains-white", slogan=""),
    "CT": layout("Connecticut", ["LL DDDDD", "DLLDDD"], text=NAVY, bg=((236, 244, 252), (178, 206, 236)), banner=NAVY, slogan="Constitution State", upper=False),
    "DE": layout("Delaware", ["DDDDDD", "DDDDDDD"], text=GOLD, bg=NAVY, banner=GOLD, slogan="The First State", font="liberation-bold", stacked=False),
    "DC": layout("Washington D.C.", ["LL-DDDD"], text=RED, bg=WHITE, banner=RED, slogan="End Taxation Without Representation", upper=False, band=None),
    "FL": layout("Florida", ["LLL LDD", "DDDD LL", "LLL DDD"], text=DKGREEN, bg=WHITE, banner=DKGREEN, slogan="Sunshine State", art="orange", font="dejavu-cond-bold"),
    "GA": layout("Georgia", ["LLL DDDD", "DLLDDDD"], text=BLACK, bg=(WHITE, (250, 226, 200)), banner=BLACK, slogan="In God We Trust", art="peach", upper=False, banner_font="serif-bold-italic"),
    "HI": layout("Hawaii", ["LLL DDD"], text=BLACK, bg=WHITE, banner=BLACK, slogan="Aloha State", art="rainbow"),
    "ID": layout("Idaho", ["DL DDDDD", "DL LDDDD"], text=NAVY, bg=(SKY, WHITE), banner=RED, slogan="Famous Potatoes", art="mountains"),
    "IL": layout("Illinois", ["LL DDDDD", "DDDDDDD"], text=RED, bg=(WHITE, (230, 236, 246)), banner=BLUE, slogan="Land of Lincoln", banner_font="serif-bold-italic", upper=False),
    "IN": layout("Indiana", ["DDDLLL", "DDDL"], text=BLUE, bg=WHITE, banner=BLUE, slogan="Crossroads of America", art="stripe"),
    "IA": layout("Iowa", ["LLL DDD"], text=BLACK, bg=((232, 240, 252), WHITE), banner=BLACK, art="hills"),
    "KS": layout("Kansas", ["DDD LLL"], text=NAVY, bg=(SKY, (250, 232, 180)), banner=NAVY, art="hills"),
    "KY": layout("Kentucky", ["DDD LLL", "LLL DDD"], text=NAVY, bg=WHITE, banner=NAVY, slogan="Unbridled Spirit", art="swoosh"),
    "LA": layout("Louisiana", ["DDD LLL", "LLL DDD"], text=NAVY, bg=(WHITE, (232, 240, 250)), banner=RED, slogan="Sportsman's Paradise", banner_font="serif-bold-italic", upper=False),
    "ME": layout("Maine", ["DDDD LL", "DDD LLL"], text=BLACK, bg=(WHITE, SKY), banner=BLACK, slogan="Vacationland", art="hills"),
    "MD": layout("Maryland", ["DLLDDDD", "DLL DDDD"], text=BLACK, bg=WHITE, banner=RED, art="stripe", slogan="", banner_font="serif-bold-italic", upper=False),
    "MA": layout("Massachusetts", ["DLLL DD", "DLL DDD"], text=RED, bg=WHITE, banner=BLUE, slogan="The Spirit of America", banner_font="serif-bold-italic", upper=False),
    "MI": layout("Michigan", ["LLL DDDD", "DLLDDD"], text=BLACK, bg=WHITE, banner=BLACK, slogan="Pure Michigan", art="stripe"),
    "MN": layout("Minnesota", ["DDD LLL", "LLL DDD"], text=NAVY, bg=(WHITE, (214, 230, 246)), banner=NAVY, slogan="10,000 Lakes", art="waves", banner_font="serif-bold-italic", upper=False),
    "MS": layout("Mississippi", ["LLL DDDD"], text=NAVY, bg=(WHITE, SKY), banner=NAVY, slogan="In God We Trust", art="waves"),
    "MO": layout("Missouri", ["LLD LDL", "LLD-LDL"], text=NAVY, bg=(WHITE, SKY), banner=RED, slogan="Show-Me State", art="swoosh"),
    "MT": layout("Montana", ["D-DDDDL", "DD-DDDDL"], text=NAVY, bg=(SKY, WHITE), banner=NAVY, slogan="Big Sky", art="mountains", stacked=False),
    "NE": layout("Nebraska", ["LLL DDD", "DD-LDDD"], text=NAVY, bg=(WHITE, (236, 230, 212)), banner=NAVY, art="hills"),
    "NV": layout("Nevada", ["DDL DDD", "DDL-DDD"], text=NAVY, bg=(SKY, (246, 220, 190)), banner=NAVY, slogan="The Silver State", art="mountains"),
    "NH": layout("New Hampshire", ["DDD DDDD", "DDDDDDD"], text=DKGREEN, bg=WHITE, banner=DKGREEN, slogan="Live Free or Die", stacked=False),
    "NJ": layout("New Jersey", ["LDD-LLL", "LDDLLL"], text=BLACK, bg=((252, 240, 200), CREAM), banner=BLACK, slogan="Garden State", font="freesans-bold"),
    "NM": layout("New Mexico", ["LLL DDD", "DDD LLL"], text=RED, bg=(GOLD, (248, 218, 110)), banner=RED, slogan="Land of Enchantment", font="liberation-bold"),
    "NY": layout("New York", ["LLL-DDDD"], text=NAVY, bg=(WHITE, (240, 206, 110)), banner=NAVY, slogan="Excelsior", band=None, font="dejavu-cond-bold", stacked=False),
    "NC": layout("North Carolina", ["LLL-DDDD"], text=BLACK, bg=WHITE, banner=RED, slogan="First in Flight", art="stripe"),
    "ND": layout("North Dakota", ["DDD LLL"], text=NAVY, bg=(SKY, (242, 232, 200)), banner=NAVY, slogan="Legendary", art="hills"),
    "OH": layout("Ohio", ["LLL DDDD"], text=NAVY, bg=(WHITE, (226, 236, 250)), banner=RED, slogan="Birthplace of Aviation", art="swoosh"),
    "OK": layout("Oklahoma", ["LLL-DDD", "DDD-LLL"], text=NAVY, bg=(WHITE, SKY), banner=NAVY, slogan="Explore Oklahoma", art="waves", stacked=False),
    "OR": layout("Oregon", ["DDD LLL", "LLL DDD"], text=NAVY, bg=WHITE, banner=NAVY, art="tree"),
    "PA": layout("Pennsylvania", ["LLL-DDDD"], text=NAVY, bg=(WHITE, GOLD), banner=NAVY, band=BLUE, slogan="visitPA.com", font="dejavu-cond-bold"),
    "RI": layout("Rhode Island", ["LL-DDD", "DDD-DDD"], text=NAVY, bg=(WHITE, SKY), banner=NAVY, slogan="Ocean State", art="waves"),
    "SC": layout("South Carolina", ["LLL DDD"], text=BLACK, bg=(WHITE, (250, 236, 210)), banner=NAVY, slogan="While I Breathe I Hope", art="tree"),
    "SD": layout("South Dakota", ["DLL DDD", "DDL DDD"], text=NAVY, bg=(SKY, WHITE), banner=NAVY, slogan="Great Faces Great Places", art="mountains"),
    "TN": layout("Tennessee", ["LDD-DDL", "LLL-DDD"], text=BLACK, bg=(WHITE, (220, 230, 245)), banner=NAVY, slogan="", art="hills"),
    "TX": layout("Texas", ["LLL-DDDD", "LLL DDDD"], text=BLACK, bg=(WHITE, (232, 232, 230)), banner=BLACK, slogan="The Lone Star State", art="star", font="dejavu-cond-bold", stacked=False),
    "UT": layout("Utah", ["LDDDLL", "DLL LDD"], text=NAVY, bg=(SKY, (238, 214, 190)), banner=MAROON, slogan="Life Elevated", art="arch"),
    "VT": layout("Vermont", ["LLL DDD"], text=WHITE, bg=(DKGREEN, (24, 96, 56)), banner=WHITE, slogan="Green Mountain State", font="freesans-bold"),
    "VA": layout("Virginia", ["LLL-DDDD"], text=NAVY, bg=WHITE, banner=NAVY, slogan="", banner_font="serif-bold"),
    "WA": layout("Washington", ["LLLDDDD", "LLL DDDD"], text=BLUE, bg=((226, 236, 250), WHITE), banner=RED, banner_font="serif-bold-italic", art="mountains", upper=False, stacked=False),
    "WV": layout("West Virginia", ["DLL DDD", "DLLDDD"], text=NAVY, bg=WHITE, banner=NAVY, slogan="Wild Wonderful", art="stripe"),
    "WI": layout("Wisconsin", ["LLL-DDDD", "DDD-LLL"], text=BLACK, bg=(WHITE, (236, 236, 228)), banner=RED, slogan="America's Dairyland", art="waves"),
    "WY": layout("Wyoming", ["D-DDDDD", "DD-DDDD"], text=BROWN, bg=(WHITE, (238, 228, 206)), banner=NAVY, slogan="", art="mountains", stacked=False, font="freesans-bold"),
}

STATES = list(LAYOUTS)
assert len(STATES) == 51

# Car colours seen behind a plate in the padding around a crop.
BODY_COLOURS = [(235, 235, 232), (180, 182, 186), (120, 122, 128), (40, 42, 46), (18, 18, 20),
                (150, 26, 30), (28, 50, 110), (36, 70, 52), (196, 184, 160), (90, 60, 40)]


@dataclass
class PlateSpec:
    state: str
    display: str          # main text as printed, with spaces/dashes
    stacked: str = ""     # 0 or 2 small letters stacked at the left
    slogan: bool = True
    frame: tuple | None = None  # frame colour, None for no frame
    sticker: tuple | None = None  # sticker colour, None for no sticker
    bolts: int = 2        # 0, 2 (top) or 4

    @property
    def label(self) -> str:
        # The small stacked letters are not part of the number as a reader reports it: on the hidden
        # US set a stacked letter read as a character counted as a misread.
        return strip_separators(self.display)


def strip_separators(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def random_plate_text(rng: random.Random, state: str) -> str:
    """Random text in one of the state's patterns, in display form (spaces/dashes kept)."""
    pattern = rng.choice(LAYOUTS[state]["patterns"])
    pools = {"L": LETTERS, "D": DIGITS, "N": DIGITS[1:]}
    return "".join(rng.choice(pools[p]) if p in pools else p for p in pattern)


def sample_spec(rng: random.Random, state: str | None = None, text: str | None = None,
                varied: bool = True) -> PlateSpec:
    """Pick the plate's optional parts. varied=False gives the plain look used for clean renders."""
    state = state or rng.choice(STATES)
    if state not in LAYOUTS:
        raise ValueError(f"unknown state {state!r}")
    display = text.upper() if text else random_plate_text(rng, state)
    if text is None and varied and rng.random() < 0.06:
        # Vanity plates: up to 8 characters of the owner's choosing, mostly letters, any letter.
        n = rng.randint(4, 8)
        display = "".join(rng.choice(string.ascii_uppercase) if rng.random() < 0.85 else rng.choice(DIGITS) for _ in range(n))
    stacked = ""
    if text is None and LAYOUTS[state]["stacked"] and rng.random() < (0.12 if varied else 0.0):
        stacked = rng.choice(LETTERS) + rng.choice(LETTERS)
    frame = None
    if rng.random() < (0.4 if varied else 0.15):
        frame = rng.choice([(20, 20, 22), (60, 60, 64), (170, 172, 178), (200, 200, 204)])
    sticker = None
    if rng.random() < (0.6 if varied else 0.5):
        sticker = rng.choice([(220, 40, 50), (240, 200, 40), (40, 140, 70), (50, 90, 200),
                              (240, 120, 30), (140, 60, 170), (250, 250, 250)])
    bolts = rng.choice([0, 2, 2, 4]) if varied else 2
    return PlateSpec(state, display, stacked, slogan=rng.random() < 0.9, frame=frame,
                     sticker=sticker, bolts=bolts)


# ---------------------------------------------------------------- fonts and text masks

@functools.lru_cache(maxsize=None)
def font_path(key: str) -> str:
    path = os.path.join(FONT_DIR, FONT_FILES[key])
    if os.path.exists(path):
        return path
    for pattern in FONT_FALLBACK_GLOBS:
        found = sorted(glob.glob(os.path.join(FONT_DIR, pattern)))
        if found:
            return found[0]
    raise FileNotFoundError(f"no TrueType fonts under {FONT_DIR}; install fonts-dejavu-core")


@functools.lru_cache(maxsize=64)
def load_font(key: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(key), size)


@functools.lru_cache(maxsize=4096)
def glyph_mask(key: str, text: str, size: int = 160) -> np.ndarray:
    """Tight alpha mask of `text` (float 0..1), cached because plates reuse the same glyphs."""
    font = load_font(key, size)
    left, top, right, bottom = font.getbbox(text)
    img = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), text, font=font, fill=255)
    mask = np.asarray(img, dtype=np.float32) / 255.0
    ys, xs = np.nonzero(mask > 0.02)
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(xs) else mask


def fit_mask(mask: np.ndarray, box_w: float, box_h: float, max_squeeze: float = 0.55) -> np.ndarray:
    """Scale to the box height, squeezing horizontally (as plate fonts are condensed) only when too wide."""
    h, w = mask.shape
    scale = box_h / h
    out_w = w * scale
    if out_w > box_w:
        out_w = max(box_w, w * scale * max_squeeze)
        if out_w > box_w:  # still too wide even fully squeezed: shrink both ways
            scale *= box_w / out_w
            out_w = box_w
            box_h = h * scale
    return cv2.resize(mask, (max(1, round(out_w)), max(1, round(box_h))), interpolation=cv2.INTER_AREA)


def text_line_mask(key: str, text: str, box_w: float, box_h: float,
                   tracking: float = 0.16) -> tuple[np.ndarray, list[float]]:
    """Main registration line, drawn glyph by glyph so spacing looks like stamped plates.

    Also returns the centres of the spaces as fractions of the line width (for FL's orange)."""
    parts = []
    for ch in text:
        if ch == " ":
            parts.append(("gap", 0.45))
        elif ch == "-":
            parts.append(("dash", glyph_mask(key, "-")))
        else:
            parts.append(("glyph", glyph_mask(key, ch)))
    cap = glyph_mask(key, "H").shape[0]
    widths = []
    for kind, val in parts:
        if kind == "gap":
            widths.append(val * cap)
        else:
            widths.append(val.shape[1])
    gap = tracking * cap
    total = sum(widths) + gap * (len(parts) - 1)
    line = np.zeros((cap, int(math.ceil(total)) + 2), np.float32)
    x = 0.0
    gaps = []
    for (kind, val), w in zip(parts, widths):
        if kind == "gap":
            gaps.append((x + w / 2) / line.shape[1])
        if kind == "glyph":
            glyph = val
            if glyph.shape[0] > cap:  # e.g. a descending J: plate dies keep every glyph on the baseline
                glyph = cv2.resize(glyph, (glyph.shape[1], cap), interpolation=cv2.INTER_AREA)
            y0 = cap - glyph.shape[0]
            xi = int(round(x))
            line[y0:y0 + glyph.shape[0], xi:xi + glyph.shape[1]] = np.maximum(
                line[y0:y0 + glyph.shape[0], xi:xi + glyph.shape[1]], glyph)
        elif kind == "dash":
            y0 = (cap - val.shape[0]) // 2
            xi = int(round(x))
            line[y0:y0 + val.shape[0], xi:xi + val.shape[1]] = val
        x += w + gap
    return fit_mask(line, box_w, box_h), gaps


def paste_mask(canvas: np.ndarray, mask: np.ndarray, cx: float, cy: float) -> tuple[int, int]:
    """Max-combine mask into canvas centred at (cx, cy); returns the top-left corner used."""
    h, w = mask.shape
    x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
    xs, ys = max(0, x0), max(0, y0)
    xe, ye = min(canvas.shape[1], x0 + w), min(canvas.shape[0], y0 + h)
    if xe > xs and ye > ys:
        canvas[ys:ye, xs:xe] = np.maximum(canvas[ys:ye, xs:xe], mask[ys - y0:ye - y0, xs - x0:xe - x0])
    return x0, y0


def blend(img: np.ndarray, mask: np.ndarray, colour) -> None:
    """In-place alpha blend of a flat colour, restricted to the rows/columns the mask touches."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return
    sl = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    region = img[sl]
    region += (np.asarray(colour, np.float32) - region) * mask[sl][..., None]


# ---------------------------------------------------------------- plate drawing

def gradient(h: int, w: int, top, bottom) -> np.ndarray:
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return np.repeat(img, w, axis=1)


def draw_art(img: np.ndarray, art: str | None, text_colour, rng: random.Random) -> None:
    """Faint background graphics; kept light so the registration stays the strongest contrast."""
    if not art:
        return
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    colour = (150, 170, 200)
    alpha = 0.35
    if art in ("mountains", "mountains-white"):
        pts = [(0, h * 0.62)]
        x = 0.0
        while x < w:
            x += rng.uniform(0.08, 0.2) * w
            pts.append((x, h * rng.uniform(0.25, 0.55)))
            x += rng.uniform(0.06, 0.15) * w
            pts.append((x, h * rng.uniform(0.5, 0.7)))
        pts += [(w, h), (0, h)]
        cv2.fillPoly(mask, [np.int32(pts)], 1.0, cv2.LINE_AA)
        colour = (255, 255, 255) if art == "mountains-white" else (150, 175, 210)
        alpha = 0.25
    elif art == "hills":
        xs = np.arange(w)
        ys = h * (0.72 + 0.06 * np.sin(xs / w * 2 * math.pi * rng.uniform(0.8, 1.6) + rng.uniform(0, 6)))
        for x, y in zip(xs, ys.astype(int)):
            mask[y:, x] = 1.0
        colour = (150, 190, 130)
    elif art == "sun":
        cv2.circle(mask, (int(w * rng.uniform(0.3, 0.7)), int(h * 0.75)), int(h * 0.5), 1.0, -1, cv2.LINE_AA)
        colour, alpha = (250, 170, 80), 0.35
    elif art == "orange":
        return  # drawn in the space between the character groups, once the text is laid out
    elif art == "peach":
        cv2.circle(mask, (int(w * 0.5), int(h * 0.55)), int(h * 0.3), 1.0, -1, cv2.LINE_AA)
        colour, alpha = (246, 170, 110), 0.3
    elif art == "waves":
        for i in range(3):
            ys = h * (0.7 + 0.08 * i) + 6 * np.sin(np.arange(w) / w * 2 * math.pi * 2 + i)
            pts = np.int32(np.stack([np.arange(w), ys], 1))
            cv2.polylines(mask, [pts], False, 1.0, max(2, h // 40), cv2.LINE_AA)
        colour = (90, 140, 210)
    elif art == "stripe":
        y = int(h * rng.choice([0.24, 0.82]))
        mask[y:y + max(3, h // 40)] = 1.0
        colour, alpha = text_colour, 0.8
    elif art == "swoosh":
        pts = np.int32([(x, h * (0.9 - 0.25 * (x / w) ** 2)) for x in range(0, w + 1, 8)])
        cv2.polylines(mask, [pts], False, 1.0, max(4, h // 25), cv2.LINE_AA)
        colour = (200, 60, 60)
    elif art == "star":
        cx, cy, r = w * 0.5, h * 0.55, h * 0.3
        pts = [(cx + (r if i % 2 == 0 else r * 0.4) * math.sin(i * math.pi / 5),
                cy - (r if i % 2 == 0 else r * 0.4) * math.cos(i * math.pi / 5)) for i in range(10)]
        cv2.fillPoly(mask, [np.int32(pts)], 1.0, cv2.LINE_AA)
        colour, alpha = (200, 200, 205), 0.35
    elif art == "rainbow":
        for i, c in enumerate([(230, 80, 80), (240, 180, 60), (80, 170, 90), (70, 120, 210)]):
            m = np.zeros((h, w), np.float32)
            cv2.ellipse(m, (w // 2, int(h * 0.95)), (int(w * (0.42 - 0.03 * i)), int(h * (0.55 - 0.03 * i))),
                        0, 180, 360, 1.0, max(3, h // 45), cv2.LINE_AA)
            blend(img, m * 0.4, c)
        return
    elif art == "tree":
        x = int(w * rng.uniform(0.4, 0.6))
        cv2.fillPoly(mask, [np.int32([(x, h * 0.3), (x - h * 0.2, h * 0.85), (x + h * 0.2, h * 0.85)])], 1.0, cv2.LINE_AA)
        colour, alpha = (120, 170, 130), 0.3
    elif art == "arch":
        cv2.ellipse(mask, (int(w * 0.5), int(h * 0.9)), (int(h * 0.35), int(h * 0.45)), 0, 180, 360, 1.0, int(h * 0.08), cv2.LINE_AA)
        colour, alpha = (210, 120, 80), 0.35
    elif art == "diamond":
        cx, cy, r = w * 0.5, h * 0.55, h * 0.35
        cv2.fillPoly(mask, [np.int32([(cx, cy - r), (cx + r * 1.4, cy), (cx, cy + r), (cx - r * 1.4, cy)])], 1.0, cv2.LINE_AA)
        colour, alpha = (230, 200, 200), 0.35
    blend(img, cv2.GaussianBlur(mask, (0, 0), 1.2) * alpha, colour)


def emboss(img: np.ndarray, mask: np.ndarray, colour, strength: float = 1.0) -> None:
    """Raised, stamped characters: drop shadow, ink fill and a top-left highlight on the edges."""
    h, w = mask.shape
    soft = cv2.GaussianBlur(mask, (0, 0), 1.6)
    shift = np.float32([[1, 0, 3], [0, 1, 3]])
    shadow = cv2.warpAffine(soft, shift, (w, h)) * (1 - mask)
    img *= (1 - 0.35 * strength * shadow)[..., None]
    blend(img, mask, colour)
    gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3)
    gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3)
    light = np.clip((gx + gy) * 0.25 * strength, -1, 1)  # light from the top left
    img += (light * 90)[..., None]


def fit_text(key: str, text: str, box_w: float, box_h: float) -> np.ndarray:
    return fit_mask(glyph_mask(key, text, 96), box_w, box_h, max_squeeze=0.6)


def rounded_alpha(h: int, w: int, radius: int) -> np.ndarray:
    alpha = np.zeros((h, w), np.float32)
    cv2.rectangle(alpha, (radius, 0), (w - 1 - radius, h - 1), 1.0, -1)
    cv2.rectangle(alpha, (0, radius), (w - 1, h - 1 - radius), 1.0, -1)
    for cx, cy in [(radius, radius), (w - 1 - radius, radius), (radius, h - 1 - radius), (w - 1 - radius, h - 1 - radius)]:
        cv2.circle(alpha, (cx, cy), radius, 1.0, -1, cv2.LINE_AA)
    return alpha


def draw_bolt(img: np.ndarray, cx: float, cy: float, r: float) -> None:
    pad = int(r * 2) + 2
    x0, y0 = max(0, int(cx) - pad), max(0, int(cy) - pad)
    patch = img[y0:int(cy) + pad, x0:int(cx) + pad]  # a view: drawing here draws on img
    cx, cy = cx - x0, cy - y0
    h, w = patch.shape[:2]
    m = np.zeros((h, w), np.float32)
    cv2.circle(m, (int(cx), int(cy)), int(r), 1.0, -1, cv2.LINE_AA)
    blend(patch, m, (150, 150, 155))
    hi = np.zeros((h, w), np.float32)
    cv2.circle(hi, (int(cx - r * 0.3), int(cy - r * 0.3)), max(1, int(r * 0.45)), 1.0, -1, cv2.LINE_AA)
    blend(patch, cv2.GaussianBlur(hi, (0, 0), r * 0.3 + 0.5) * 0.7, (235, 235, 240))
    slot = np.zeros((h, w), np.float32)
    cv2.line(slot, (int(cx - r * 0.6), int(cy)), (int(cx + r * 0.6), int(cy)), 1.0, max(1, int(r * 0.25)), cv2.LINE_AA)
    blend(patch, slot * 0.7, (60, 60, 64))


def draw_plate(spec: PlateSpec, rng: random.Random, width: int = BASE_W) -> np.ndarray:
    """Clean plate as float32 RGBA (0..255 colour, 0..1 alpha), `width` x width/2."""
    W, H = width, width // 2
    lay = LAYOUTS[spec.state]
    img = gradient(H, W, *lay["bg"])
    draw_art(img, lay["art"], lay["text"], rng)
    # Retroreflective sheeting has a faint grain.
    img += np.asarray(random_np(rng).normal(0, 2.0, (H, W, 1)), np.float32)

    top_banner = lay["pos"] == "top"
    banner_y = H * (0.13 if top_banner else 0.88)
    slogan_y = H * (0.89 if top_banner else 0.12)
    if lay["band"]:
        band = np.zeros((H, W), np.float32)
        y0, y1 = (0, int(H * 0.25)) if top_banner else (int(H * 0.76), H)
        band[y0:y1] = 1.0
        blend(img, band, lay["band"])
        banner_colour = WHITE
    else:
        banner_colour = lay["banner"]
    name_mask = np.zeros((H, W), np.float32)
    paste_mask(name_mask, fit_text(lay["banner_font"], lay["name"], W * 0.54, H * 0.15), W / 2, banner_y)
    blend(img, name_mask, banner_colour)
    if lay["slogan"] and spec.slogan:
        slogan_mask = np.zeros((H, W), np.float32)
        paste_mask(slogan_mask, fit_text("dejavu-bold", lay["slogan"], W * 0.5, H * 0.085), W / 2, slogan_y)
        blend(img, slogan_mask, lay["banner"] if lay["band"] is None else lay["text"])

    if spec.sticker:
        sx0 = int(W * (0.04 if rng.random() < 0.5 else 0.82))
        sy0 = int(H * (0.05 if top_banner else 0.72))
        sw, sh = int(W * 0.13), int(H * 0.2)
        cv2.rectangle(img, (sx0, sy0), (sx0 + sw, sy0 + sh), spec.sticker, -1)
        cv2.rectangle(img, (sx0 + sw // 8, sy0 + sh // 4), (sx0 + sw - sw // 8, sy0 + sh // 4 + max(2, sh // 8)), (30, 30, 30), -1)

    # Main registration, plus optional stacked pair at its left.
    text_mask = np.zeros((H, W), np.float32)
    cy = H * 0.53
    box_h = H * 0.50
    left, right = W * 0.07, W * 0.93
    if spec.stacked:
        small_h = box_h * 0.42
        sx = W * 0.11
        for i, ch in enumerate(spec.stacked):
            paste_mask(text_mask, fit_text(lay["font"], ch, W * 0.09, small_h), sx, cy + (i - 0.5) * box_h * 0.55)
        left = W * 0.18
    line, gaps = text_line_mask(lay["font"], spec.display, right - left, box_h)
    x0, _ = paste_mask(text_mask, line, (left + right) / 2, cy)
    if lay["art"] == "orange" and gaps:
        # Small and pale, so it reads as a mark between the groups rather than as an O.
        dot = np.zeros((H, W), np.float32)
        cv2.circle(dot, (int(x0 + gaps[0] * line.shape[1]), int(cy)), int(H * 0.05), 1.0, -1, cv2.LINE_AA)
        blend(img, cv2.GaussianBlur(dot, (0, 0), 1.0) * 0.5, ORANGE)
    emboss(img, text_mask, lay["text"])

    if spec.bolts:
        r = W * 0.018
        holes = [(0.21, 0.1), (0.79, 0.1)] + ([(0.21, 0.9), (0.79, 0.9)] if spec.bolts == 4 else [])
        for fx, fy in holes:
            draw_bolt(img, W * fx, H * fy, r)

    alpha = rounded_alpha(H, W, int(W * 0.035))
    if spec.frame:
        draw_frame(img, spec.frame, rng)
    # Whole-plate emboss at the rim: stamped plates curl slightly at the edge.
    rim = 1 - cv2.GaussianBlur(cv2.erode(alpha, np.ones((7, 7), np.uint8)), (0, 0), 3)
    img *= (1 - 0.25 * rim)[..., None]
    return np.dstack([np.clip(img, 0, 255), alpha]).astype(np.float32)


def draw_frame(img: np.ndarray, colour, rng: random.Random) -> None:
    """Dealer frame: an edge band, usually thicker at the bottom where it can hide part of a slogan."""
    h, w = img.shape[:2]
    m = np.zeros((h, w), np.float32)
    t = int(h * rng.uniform(0.025, 0.05))
    bottom = int(h * rng.uniform(0.04, 0.1))
    m[:t] = 1
    m[h - bottom:] = 1
    m[:, :t] = 1
    m[:, w - t:] = 1
    shade = gradient(h, w, np.asarray(colour) * 1.15, np.asarray(colour) * 0.8)
    mm = m[..., None]
    img[:] = img * (1 - mm) + np.clip(shade, 0, 255) * mm
    inner = cv2.GaussianBlur(m, (0, 0), 2) * (1 - m)
    img *= (1 - 0.4 * inner)[..., None]


# Made-up dealer-frame words (no real business): drawn from syllables, so a frame never names one.
_DEALER_HEADS = ["SUN", "VAL", "RIVER", "OAK", "PINE", "MESA", "BAY", "HILL", "LAKE", "STAR", "NORTH", "WEST"]
_DEALER_TAILS = ["MOTORS", "AUTO", "AUTO GROUP", "CARS", "AUTOPLEX", "TOYOTA", "FORD", "HONDA", "CHEVROLET", "NISSAN", "KIA"]


def dealer_words(rng: random.Random) -> tuple[str, str]:
    """Top and bottom lines of a dealer frame: a name, and a town, slogan or phone number (555-01xx
    numbers are reserved for fiction)."""
    top = f"{rng.choice(_DEALER_HEADS)}{rng.choice(['', ' ', 'VIEW ', 'SIDE '])}{rng.choice(_DEALER_TAILS)}"
    bottom = rng.choice([
        f"{rng.choice(_DEALER_HEADS)}{rng.choice(['VILLE', ' CITY', 'TON', ' SPRINGS'])}",
        f"(555) 01{rng.randint(0, 99):02d}",
        rng.choice(["DRIVE HAPPY", "SERVICE FIRST", "WE FINANCE", "SALES . SERVICE . PARTS"]),
        f"{rng.choice(_DEALER_HEADS)}{rng.choice(_DEALER_TAILS)}.COM",
    ])
    return top, bottom


def add_dealer_frame(plate: np.ndarray, rng: random.Random) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Surrounds a plate (float RGBA from draw_plate) with a dealer frame printed with text above
    and below, which may cover the plate's banner and bottom line as real frames do. Returns the
    framed RGBA and the plate's own box [x, y, w, h] inside it (the label stays the plate)."""
    H, W = plate.shape[:2]
    side = int(W * rng.uniform(0.02, 0.05))
    top = int(H * rng.uniform(0.08, 0.2))
    bottom = int(H * rng.uniform(0.14, 0.3))
    cover_t = int(H * rng.uniform(0.0, 0.14))   # how far the frame reaches over the banner
    cover_b = int(H * rng.uniform(0.0, 0.16))   # and over the slogan line
    out = np.zeros((H + top + bottom, W + 2 * side, 4), np.float32)
    out[top:top + H, side:side + W] = plate
    oh, ow = out.shape[:2]
    dark = rng.random() < 0.7
    colour = np.float32(rng.choice([(18, 18, 20), (34, 34, 38)]) if dark else rng.choice([(200, 200, 206), (176, 160, 110)]))
    ink = np.float32((235, 235, 235) if dark else (20, 20, 24))
    band = np.zeros((oh, ow), np.float32)
    band[:top + cover_t] = 1
    band[oh - bottom - cover_b:] = 1
    band[:, :side + 2] = 1
    band[:, ow - side - 2:] = 1
    # The window the plate shows through has round corners, like a moulded frame.
    r = int(min(H, W) * 0.06)
    win = np.zeros((oh, ow), np.uint8)
    cv2.rectangle(win, (side + 2 + r, top + cover_t), (ow - side - 3 - r, oh - bottom - cover_b - 1), 1, -1)
    cv2.rectangle(win, (side + 2, top + cover_t + r), (ow - side - 3, oh - bottom - cover_b - 1 - r), 1, -1)
    band = np.maximum(band, 1 - win.astype(np.float32)) if r > 0 else band
    shade = gradient(oh, ow, colour * 1.2, colour * 0.85)
    out[..., :3] = out[..., :3] * (1 - band[..., None]) + np.clip(shade, 0, 255) * band[..., None]
    out[..., 3] = np.maximum(out[..., 3], band)
    t_line, b_line = dealer_words(rng)
    font = rng.choice(["dejavu-bold", "freesans-bold", "dejavu-cond-bold"])
    if top + cover_t > 8 and rng.random() < 0.8:
        m = np.zeros((oh, ow), np.float32)
        paste_mask(m, fit_text(font, t_line, ow * 0.7, min(H * 0.1, (top + cover_t) * 0.6)), ow / 2, (top + cover_t) / 2)
        blend(out[..., :3], m, ink)
    if bottom + cover_b > 8:
        m = np.zeros((oh, ow), np.float32)
        paste_mask(m, fit_text(font, b_line, ow * 0.75, min(H * 0.12, (bottom + cover_b) * 0.55)), ow / 2, oh - (bottom + cover_b) / 2)
        blend(out[..., :3], m, ink)
    return out, (side, top, W, H)


# ---------------------------------------------------------------- degradations

def random_np(rng: random.Random) -> np.random.Generator:
    return np.random.default_rng(rng.getrandbits(64))


def context_background(rng: random.Random, h: int, w: int) -> np.ndarray:
    """Car body around the plate: a body colour with soft shading, a bumper edge and grime."""
    nrng = random_np(rng)
    body = np.asarray(rng.choice(BODY_COLOURS), np.float32)
    img = gradient(h, w, body * rng.uniform(0.9, 1.15), body * rng.uniform(0.6, 0.95))
    if rng.random() < 0.6:
        y = int(h * rng.uniform(0.6, 0.9))
        img[y:] = img[y:] * 0.35 + 10
    # Blotchy low-frequency grime: coarse noise upsampled is cheaper than blurring full-size noise.
    coarse = nrng.normal(0, 8, (h // 4 + 2, w // 4 + 2)).astype(np.float32)
    noise = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return img + noise[..., None]


def place_with_perspective(plate: np.ndarray, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """Put the plate on context with random padding, perspective and rotation; returns (rgb, plate alpha)."""
    H, W = plate.shape[:2]
    pad_l, pad_r = (int(W * rng.uniform(0.02, 0.2)) for _ in range(2))
    pad_t, pad_b = (int(H * rng.uniform(0.05, 0.35)) for _ in range(2))
    out_w, out_h = W + pad_l + pad_r, H + pad_t + pad_b
    src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    angle = math.radians(rng.gauss(0, 3.5))
    ca, sa = math.cos(angle), math.sin(angle)
    centre = np.float32([pad_l + W / 2, pad_t + H / 2])
    # Perspective: yaw makes one side taller (nearer), pitch makes top and bottom differ in width.
    yaw = rng.gauss(0, 0.08)
    pitch = rng.gauss(0, 0.05)
    dst = []
    for x, y in src:
        dx, dy = x - W / 2, y - H / 2
        side, edge = math.copysign(1, dx), math.copysign(1, dy)
        px = dx * (1 - abs(yaw) * 0.8) * (1 + pitch * edge) + W * rng.gauss(0, 0.01)
        py = dy * (1 + yaw * side) + H * rng.gauss(0, 0.015)
        dst.append((centre[0] + px * ca - py * sa, centre[1] + px * sa + py * ca))
    dst = np.float32(dst)
    # Keep the whole plate inside the crop so the label stays fully readable.
    lo = dst.min(0)
    hi = dst.max(0)
    dst += np.float32([max(0, 1 - lo[0]), max(0, 1 - lo[1])])
    dst -= np.float32([max(0, hi[0] - (out_w - 2)), max(0, hi[1] - (out_h - 2))])
    M = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate, M, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3:4]
    bg = context_background(rng, out_h, out_w)
    rgb = warped[..., :3] * alpha + bg * (1 - alpha)
    return rgb, alpha[..., 0]


def add_glare(img: np.ndarray, rng: random.Random) -> None:
    h, w = img.shape[:2]
    m = np.zeros((h, w), np.float32)
    cv2.ellipse(m, (int(w * rng.uniform(0.1, 0.9)), int(h * rng.uniform(0.1, 0.9))),
                (int(w * rng.uniform(0.08, 0.3)), int(h * rng.uniform(0.1, 0.4))),
                rng.uniform(0, 180), 0, 360, 1.0, -1)
    m = cv2.GaussianBlur(m, (0, 0), w * 0.05)
    blend(img, m * rng.uniform(0.3, 0.75), (255, 255, 250))


def add_dirt(img: np.ndarray, rng: random.Random) -> None:
    h, w = img.shape[:2]
    nrng = random_np(rng)
    grime = cv2.GaussianBlur(nrng.random((h, w)).astype(np.float32), (0, 0), w * 0.03)
    grime = np.clip((grime - grime.mean()) * 8 + 0.1, 0, 1) * rng.uniform(0.15, 0.4)
    blend(img, grime, (90, 75, 55))
    for _ in range(rng.randint(5, 60)):
        cv2.circle(img, (rng.randrange(w), rng.randrange(h)), rng.randint(1, 3),
                   (rng.randint(40, 110),) * 3, -1)


def night_ir(img: np.ndarray, plate_alpha: np.ndarray, rng: random.Random) -> np.ndarray:
    """IR illuminator look: grey, retroreflective plate much brighter than its dark surroundings."""
    grey = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    a = cv2.GaussianBlur(plate_alpha, (0, 0), 2)
    grey = grey * (0.25 + 0.75 * a) * rng.uniform(1.0, 1.3)
    lo, hi = np.percentile(grey, 2), np.percentile(grey, 99.5)
    grey = np.clip((grey - lo) / max(1.0, hi - lo) * 255, 0, 255)
    return np.repeat(grey[..., None], 3, axis=2)


def motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    size = int(math.ceil(length)) | 1
    k = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    cv2.line(k, (int(round(c - dx * length / 2)), int(round(c - dy * length / 2))),
             (int(round(c + dx * length / 2)), int(round(c + dy * length / 2))), 1.0, 1, cv2.LINE_AA)
    return k / k.sum()


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def apply_degradations(plate: np.ndarray, rng: random.Random) -> np.ndarray:
    """Camera-like crop of a clean RGBA plate at low resolution. Returns uint8 RGB."""
    img, alpha = place_with_perspective(plate, rng)
    if rng.random() < 0.25:
        add_glare(img, rng)
    if rng.random() < 0.35:
        add_dirt(img, rng)
    if rng.random() < 0.15:
        img = night_ir(img, alpha, rng)
    else:
        gain, gamma = rng.uniform(0.55, 1.25), rng.uniform(0.7, 1.5)
        cast = np.float32([rng.uniform(0.9, 1.1) for _ in range(3)])
        img = 255 * (np.clip(img * gain * cast, 0, 255) / 255) ** gamma
    # Plate width in the camera: log-uniform 40..300 px, as plates read from 40 px upwards.
    plate_w = math.exp(rng.uniform(math.log(40), math.log(300)))
    scale = plate_w / plate.shape[1]
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(8, round(w * scale)), max(4, round(h * scale))), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:
        small = cv2.filter2D(small, -1, motion_kernel(rng.uniform(1.5, 2 + plate_w / 40), rng.gauss(0, 20)))
    if rng.random() < 0.35:
        small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 0.6 + plate_w / 250))
    if rng.random() < 0.7:
        small = small + random_np(rng).normal(0, rng.uniform(1, 9), small.shape).astype(np.float32)
    out = np.clip(small, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        out = jpeg_roundtrip(out, rng.randint(25, 90))
    return out


# ---------------------------------------------------------------- public API

def render_plate(rng: random.Random, state: str | None = None, text: str | None = None,
                 degrade: bool = True, width: int | None = None) -> tuple[Image.Image, str, str]:
    """Render one plate. Returns (RGB image, label text without spaces/dashes, state code).

    degrade=False gives the flat, front-on plate (BASE_W wide unless `width`). degrade=True gives
    a camera-like crop with context around the plate, at its own low resolution unless `width`
    asks for a resize (aspect kept).
    """
    spec = sample_spec(rng, state, text, varied=degrade)
    plate = draw_plate(spec, rng)
    if degrade:
        if spec.frame is None and rng.random() < 0.2:
            # Dealer frames with text above and below: the hidden US set's plates in such frames
            # were missed or read with a frame character added.
            plate, _ = add_dealer_frame(plate, rng)
        out = apply_degradations(plate, rng)
    else:
        rgb = plate[..., :3] * plate[..., 3:] + 255 * (1 - plate[..., 3:])  # corners on white
        out = np.clip(rgb, 0, 255).astype(np.uint8)
    if width:
        h, w = out.shape[:2]
        interp = cv2.INTER_AREA if width < w else cv2.INTER_CUBIC
        out = cv2.resize(out, (width, max(1, round(h * width / w))), interpolation=interp)
    return Image.fromarray(out, "RGB"), spec.label, spec.state


def label_record(image: str, text: str, state: str, split: str = "train") -> dict:
    return {"image": image, "kind": "crop", "split": split,
            "plates": [{"text": text, "region": f"us-{state.lower()}"}]}


def sample_rng(seed: int, index: int) -> random.Random:
    """Independent stream per sample so any one image can be regenerated on its own."""
    return random.Random(seed * 1_000_003 + index)


def write_dataset(out: str, count: int, seed: int, fmt: str, degrade: bool, width: int | None, split: str) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "labels.jsonl"), "w") as labels:
        for i in range(count):
            image, text, state = render_plate(sample_rng(seed, i), degrade=degrade, width=width)
            name = f"{i:06d}.{fmt}"
            if fmt == "jpg":
                image.save(os.path.join(out, name), quality=92)
            else:
                image.save(os.path.join(out, name))
            labels.write(json.dumps(label_record(name, text, state, split)) + "\n")
            if (i + 1) % 200 == 0 or i + 1 == count:
                print(f"plates: {i + 1}/{count}", file=sys.stderr)


def contact_sheet(path: str, seed: int, cols: int = 8, rows: int = 6, tile_w: int = 180) -> None:
    """Grid of samples for the docs: the first row clean (layout variety), the rest degraded."""
    tile_h = tile_w // 2 + 26
    sheet = Image.new("RGB", (cols * tile_w, rows * tile_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    caption_font = load_font("sans", 12)
    showcase = ["CA", "TX", "FL", "NY", "WA", "AZ", "PA", "CO"]
    for i in range(cols * rows):
        rng = sample_rng(seed, i)
        clean = i < cols
        state = showcase[i] if clean else None
        image, text, state = render_plate(rng, state=state, degrade=not clean)
        image.thumbnail((tile_w - 8, tile_h - 24), Image.LANCZOS if clean else Image.BICUBIC)
        if image.width < (tile_w - 8) * 0.6:  # show tiny crops enlarged, as a reader would see them
            f = (tile_w - 8) * 0.6 / image.width
            image = image.resize((round(image.width * f), round(image.height * f)), Image.BICUBIC)
            image.thumbnail((tile_w - 8, tile_h - 24))
        x0, y0 = (i % cols) * tile_w, (i // cols) * tile_h
        sheet.paste(image, (x0 + (tile_w - image.width) // 2, y0 + 4 + (tile_h - 24 - image.height) // 2))
        draw.text((x0 + 6, y0 + tile_h - 19), f"{state}  {text}", font=caption_font, fill=(40, 40, 40))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    # A 256-colour palette keeps the docs image small; dithering hides the banding on gradients.
    sheet.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Render synthetic US plate crops with labels.")
    ap.add_argument("--out", help="output folder for images + labels.jsonl")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["png", "jpg"], default="png")
    ap.add_argument("--clean", action="store_true", help="no degradations (flat front-on plates)")
    ap.add_argument("--width", type=int, help="resize every image to this width")
    ap.add_argument("--split", default="train")
    ap.add_argument("--contact-sheet", metavar="FILE.png", help="write a grid of 48 samples")
    args = ap.parse_args(argv)
    if not args.out and not args.contact_sheet:
        ap.error("give --out and/or --contact-sheet")
    if args.out:
        write_dataset(args.out, args.count, args.seed, args.format, not args.clean, args.width, args.split)
    if args.contact_sheet:
        contact_sheet(args.contact_sheet, args.seed)


if __name__ == "__main__":
    main()
