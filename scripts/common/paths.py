"""Where the repository and the shared datasets are."""

import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATASETS = os.path.normpath(os.path.join(REPO, "..", "shared", "datasets"))
