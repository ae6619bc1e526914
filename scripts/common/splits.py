"""The fixed splits of the labelled sets, the same rule as src/eval/labelled-set.ts."""

import hashlib
import os


def hash_split(name):
    """Fixed split for sets without one: 1 in 10 file names (by sha1) is held out of training."""
    return "held" if int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % 10 == 0 else "train"


def held_half(name):
    """A held-out image is val (chooses checkpoints, thresholds, rules) or test (only reported),
    by a second sha1 of its name. Both halves were never trained on; the same rule as
    src/eval/labelled-set.ts."""
    return "test" if int(hashlib.sha1(("test:" + name).encode("utf-8")).hexdigest(), 16) % 2 == 0 else "val"


def norm_split(entry):
    if "source" in entry:
        return entry["split"]  # a generated scene keeps its source's split, already decided
    name = os.path.basename(entry["image"])
    s = entry.get("split")
    held = hash_split(name) == "held" if s is None else s in ("test", "val", "valid")
    return held_half(name) if held else "train"
