"""models/manifest.json: the entries our exports own, with each file's sha256."""

import hashlib
import json
import os


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def update_manifest(path, entries):
    """Read-modify-write: only entries whose name we own are replaced; the rest (the TS
    engineer's interim models) are left untouched and in place."""
    data = {"models": []}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
        data.setdefault("models", [])
    names = {e["name"] for e in entries}
    kept = [m for m in data["models"] if m.get("name") not in names]
    data["models"] = kept + entries
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
