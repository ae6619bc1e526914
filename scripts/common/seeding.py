"""Seeds: the main process's global generators, and one batch stream per DataLoader worker.

A DataLoader runs a copy of a stream in each worker; seeded alike, N workers would yield the same
batches N times. `stream_seed` mixes in the worker's index, and worker 0 (or a stream run
in-process) keeps the seed that single-worker runs always had, so their batches do not change."""

import random

import numpy as np
import torch

_WORKER_MIX = 0x9E3779B97F4A7C15  # any large odd constant keeps the workers' seeds apart


def seed_all(seed):
    """Seeds Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def worker_index():
    """This DataLoader worker's index; 0 in the main process."""
    info = torch.utils.data.get_worker_info()
    return info.id if info is not None else 0


def stream_seed(seed, start_step, salt=0):
    """The seed of this worker's stream, from the run's seed and the step it starts at: a resumed
    run gets a fresh but reproducible stream rather than replaying the batches already seen."""
    return (seed * 1000003) ^ (start_step * 7919) ^ salt ^ (worker_index() * _WORKER_MIX)
