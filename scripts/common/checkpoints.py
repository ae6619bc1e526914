"""Checkpoint files."""

import os

import torch


def atomic_save(obj, path):
    """torch.save through a temporary file, so a reader (or a kill) never sees half a checkpoint."""
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)
