"""Where the project's files are: the checkout, the shipped checkpoints, the shared datasets. No
imports beyond the standard library's os and pathlib, so the web process can name the default model
without loading torch.

>>> DEFAULT_CHECKPOINT.name, DEFAULT_CHECKPOINT.parent == CHECKPOINT_DIR
('digitscan-cnn.pt', True)
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "digitscan-cnn.pt"
LINE_CHECKPOINT = CHECKPOINT_DIR / "digitscan-lines.pt"


def dataset(name: str) -> Path:
    """The folder of a shared dataset (``orand-car-a-train``, ``real-photos-dev``): under
    ``$DIGITSCAN_DATASETS`` when set, else in ``../shared/datasets`` beside the checkout (never
    committed; ``deploy/test.sh`` points a scratch clone at the one beside its origin).

    >>> dataset("orand-car-a-train").name
    'orand-car-a-train'
    """
    root = os.environ.get("DIGITSCAN_DATASETS")
    return (Path(root) if root else PROJECT_ROOT.parent / "shared" / "datasets") / name


def shown(path: str | Path) -> str:
    """``path`` as a record should give it: relative to the checkout when it lies beside it (the
    shared datasets, another checkout's data), so no machine's own folders end up in a checkpoint or
    a card; elsewhere as it is.

    >>> shown(PROJECT_ROOT.parent / "shared" / "datasets" / "mnist")
    '../shared/datasets/mnist'
    >>> shown("/somewhere/else")
    '/somewhere/else'
    """
    resolved = Path(path).resolve()
    if resolved.is_relative_to(PROJECT_ROOT.parent):
        return os.path.relpath(resolved, PROJECT_ROOT)
    return str(path)
