"""DigitScan's recognition library: MNIST, the six families of the study, reading digits in images.

Usable alone, with no web framework: ``python -m ml ...`` or

>>> from ml import read, annotate, load_checkpoint
>>> import numpy as np
>>> read(np.full((100, 100, 3), 255, np.uint8)).text   # a blank page reads as empty
''

The rooms: ``reading`` (an image → a Reading: decode, segment, cut and choose, annotate), ``models``
(the families, their input, checkpoints), ``training`` (fit, evaluate, recipes), ``synth`` (pages,
scenes and not-a-digit samples with known truth), ``study`` (the benchmark, the ablation study, the
reading measurements), ``cli`` (``python -m ml``); ``data`` (MNIST), ``paths``, ``progress``,
``machine``. Imports run one way, cli → study → training → synth → reading → models → data.

The names below are imported when first used, so ``import ml.reading.decode`` (what the web process
needs to validate an upload) loads Pillow and OpenCV, not torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name → the module that defines it
_EXPORTS = {
    "read": "ml.reading.reader", "annotate": "ml.reading.annotate",
    "decode_image": "ml.reading.decode", "ImageError": "ml.reading.decode",
    "Digit": "ml.reading.result", "Reading": "ml.reading.result",
    "load_checkpoint": "ml.models.checkpoint", "CheckpointError": "ml.models.checkpoint",
    "DEFAULT_CHECKPOINT": "ml.paths",
}
__all__ = ["DEFAULT_CHECKPOINT", "CheckpointError", "Digit", "ImageError", "Reading", "annotate",
           "decode_image", "load_checkpoint", "read"]

if TYPE_CHECKING:
    from ml.models.checkpoint import CheckpointError, load_checkpoint
    from ml.paths import DEFAULT_CHECKPOINT
    from ml.reading.annotate import annotate
    from ml.reading.decode import ImageError, decode_image
    from ml.reading.reader import read
    from ml.reading.result import Digit, Reading


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ml' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
