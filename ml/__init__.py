"""DigitScan's recognition library: MNIST, the six families of the study, reading digits in images.

Usable alone, with no web framework: ``python -m ml ...`` or

>>> from ml import read, annotate, load_checkpoint
>>> import numpy as np
>>> read(np.full((100, 100, 3), 255, np.uint8)).text   # a blank page reads as empty
''
"""

from .checkpoint import DEFAULT_CHECKPOINT, CheckpointError, load_checkpoint
from .reading import Digit, ImageError, Reading, annotate, decode_image, read

__all__ = [
    "DEFAULT_CHECKPOINT", "CheckpointError", "Digit", "ImageError", "Reading",
    "annotate", "decode_image", "load_checkpoint", "read",
]
