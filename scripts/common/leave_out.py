"""Leave-one-source-out: a set left out of training and of the checkpoint choice stands for a
camera never seen."""


def check_leave_out(leave_out, known, what):
    """Exits (usage) when a name is not one of `known`; `what` says which sets, e.g. "a real set
    of the reader"."""
    unknown = set(leave_out) - set(known)
    if unknown:
        raise SystemExit("--leave-out: not %s: %s" % (what, ", ".join(sorted(unknown))))
