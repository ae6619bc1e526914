#!/usr/bin/env python3
"""Checks the trainers' batch streams under a DataLoader: with several workers every batch is
different (each worker has its own stream), and the first worker's stream is the one a
single-worker or in-process run has always had, so those runs keep their batches.

  /usr/bin/python3 scripts/train/check_streams.py      (about 20 s; exit 0 = pass)

Runs on made-up data only (noise images, a stand-in plate renderer for the reader), never the
real sets: it checks the plumbing, not the pictures.
"""

import os
import pickle
import random
import sys
import tempfile

import cv2
import numpy as np
import torch

if not __package__:  # run as a file, not with -m: `scripts` is imported from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from scripts.common.seeding import stream_seed  # noqa: E402
from scripts.common.streams import batch_loader  # noqa: E402
from scripts.train import train_detector, train_reader  # noqa: E402

BATCHES = 6

# A stand-in for scripts/synth/plates.py (train_reader --synth-dir takes any folder with one):
# rendering 256 real plates per worker would make this check slow, and it tests the streams.
FAKE_PLATES = '''
import numpy as np
from PIL import Image

def render_plate(rng, degrade=True):
    a = np.random.default_rng(rng.getrandbits(32)).integers(0, 255, (40, 80, 3), dtype=np.uint8)
    return Image.fromarray(a, "RGB"), "".join(rng.choice("QXZ482") for _ in range(6)), "CA"
'''


def first_batches(stream, workers, key):
    loader = iter(batch_loader(stream, workers, prefetch=2))
    return [key(next(loader)).clone() for _ in range(BATCHES)]


def check(name, stream, key):
    one = first_batches(stream, 1, key)
    several = first_batches(stream, 2, key)
    in_process = first_batches(stream, 0, key)[0]
    for i in range(BATCHES):
        for j in range(i):
            assert not torch.equal(several[i], several[j]), "%s: 2 workers gave batch %d twice" % (name, j)
    assert torch.equal(one[0], in_process), "%s: one worker's stream differs from the in-process stream" % name
    # The DataLoader takes batches from its workers in turn: worker 0's are batches 0, 2, 4 ...
    assert torch.equal(several[0], one[0]) and torch.equal(several[2], one[1]), \
        "%s: worker 0 of 2 does not keep the single-worker stream" % name
    print("%s: %d batches from 2 workers all different; worker 0 keeps the single-worker stream" % (name, BATCHES),
          file=sys.stderr)


def noise(rng, h, w):
    return np.random.default_rng(rng.getrandbits(32)).integers(0, 255, (h, w, 3), dtype=np.uint8)


def main():
    torch.set_num_threads(1)
    seed, step, salt = 1234, 500, 0x5EED
    assert stream_seed(seed, step, salt) == (seed * 1000003) ^ (step * 7919) ^ salt, \
        "the in-process stream's seed changed: resumed runs would see other batches"
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "plates.py"), "w") as f:
            f.write(FAKE_PLATES)
        items = [dict(set="ucsd-ca", split="train", img=noise(rng, 60, 200), box=[20, 10, 160, 40], crop=False,
                      text="QXZ482", state=-1) for _ in range(20)]
        cache = os.path.join(tmp, "real.pkl")
        with open(cache, "wb") as f:
            pickle.dump(items, f)
        reader = train_reader.BatchStream(cache, tmp, batch_size=8, real_frac=0.5, seed=seed, start_step=step,
                                          synth_new=2)
        check("reader stream", reader, lambda b: b["x"])

    scenes = []
    for _ in range(10):
        ok, jpg = cv2.imencode(".jpg", noise(rng, 240, 320))
        scenes.append(dict(set="ucsd-ca", split="train", jpg=jpg.tobytes(), size=(320, 240),
                           boxes=np.float32([[100, 150, 60, 20]])))
    detector = train_detector.BatchStream(scenes, batch_size=2, size=96, seed=seed, start_step=step)
    check("detector stream", detector, lambda b: b[0])


if __name__ == "__main__":
    main()
