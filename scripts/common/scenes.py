"""Labelled scenes (kind "scene") of the shared datasets, one split at a time."""

import json
import os

from scripts.common.splits import norm_split


def labelled_scenes(datasets, sets, split):
    """Yields (set name, set folder, 1-based label line, label entry, its split) for every scene of
    `split` ("all" for every split), in file order."""
    for set_name in sets:
        root = os.path.join(datasets, set_name)
        with open(os.path.join(root, "labels.jsonl")) as f:
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                e = json.loads(line)
                if e.get("kind") != "scene":
                    continue
                sp = norm_split(e)
                if split != "all" and sp != split:
                    continue
                yield set_name, root, line_no, e, sp
