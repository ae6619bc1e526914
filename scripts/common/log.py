"""Progress lines for people watching a run: stderr, flushed at once (runs go to nohup logs)."""

import sys


def log(*a):
    print(*a, file=sys.stderr, flush=True)
