"""Endless batch streams (torch IterableDatasets that yield whole batches, seeded per worker with
seeding.stream_seed) and their loader."""

import torch


def single_threaded():
    """A stream renders and augments on one core: workers and the training step share the CPUs."""
    import cv2
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def batch_loader(stream, workers, prefetch=4):
    """A DataLoader over a stream of whole batches (no collation), `workers` processes beside training."""
    kw = dict(batch_size=None, num_workers=workers)
    if workers > 0:
        kw["prefetch_factor"] = prefetch
    return torch.utils.data.DataLoader(stream, **kw)
