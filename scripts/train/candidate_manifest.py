#!/usr/bin/env python3
"""A manifest for trying exported candidates in the product before shipping them.

  /usr/bin/python3 scripts/export/export_reader.py --ckpt train-runs/reader/last.pt --models-dir /tmp/cand --no-manifest
  /usr/bin/python3 scripts/train/candidate_manifest.py /tmp/cand
  npm run eval -- ../shared/datasets/ucsd-ca --split val --manifest /tmp/cand/manifest.json

Copies models/manifest.json and points each entry whose file the candidate folder holds (same
file name) at that file, by absolute path, with its sha256 and size; every other entry stays the
shipped one. Writes <dir>/manifest.json; models/ is not touched.
"""

import hashlib
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv):
    if len(argv) != 1:
        raise SystemExit("usage: candidate_manifest.py CANDIDATE_DIR")
    cand = os.path.abspath(argv[0])
    with open(os.path.join(REPO, "models", "manifest.json")) as f:
        manifest = json.load(f)
    swapped = []
    for entry in manifest["models"]:
        path = os.path.join(cand, os.path.basename(entry["file"]))
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            entry.update(file=path, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
            entry["version"] = entry.get("version", "") + "+candidate"
            swapped.append(entry["name"])
        else:
            entry["file"] = os.path.join(REPO, entry["file"])
    if not swapped:
        raise SystemExit("no model file of models/manifest.json in %s" % cand)
    out = os.path.join(cand, "manifest.json")
    with open(out, "w") as f:
        json.dump(manifest, f, indent=2)
    print("%s: candidate %s, shipped for the rest" % (out, ", ".join(swapped)))


if __name__ == "__main__":
    main(sys.argv[1:])
