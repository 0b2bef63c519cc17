"""A digit crop → the 28×28 input the models were trained on, made exactly as MNIST was made.

MNIST's recipe (LeCun et al.): the ink is scaled to fit a 20×20 box keeping its aspect ratio
(anti-aliased, so grey levels appear), then placed in a 28×28 field so that its centre of mass lands on
the centre. Measured on the training set, that centre of mass is at (row 13.99, column 14.00) in pixel
indices — so we put it at (14, 14).

The settings below have a signature that every checkpoint stores; loading a checkpoint whose signature
differs fails loudly (see :mod:`ml.models.checkpoint`), because a model fed differently-made inputs degrades
silently.

>>> import numpy as np
>>> crop = np.zeros((60, 30), np.float32); crop[5:55, 10:20] = 1.0
>>> out = to_mnist(crop)
>>> out.shape, round(float(centre_of_mass(out)[0]), 1)
((28, 28), 14.0)
"""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np

SETTINGS = {
    "version": 1,
    "size": 28,  # output side in pixels
    "box": 20,  # longest side of the ink after scaling
    "centre": [14.0, 14.0],  # where the centre of mass lands (row, column)
    "ink": "high",  # 1.0 = ink, 0.0 = paper, values in [0, 1]
    "downscale": "area",  # cv2.INTER_AREA when shrinking (anti-aliasing like MNIST's)
    "upscale": "linear",  # cv2.INTER_LINEAR when enlarging tiny crops
    "deskew": False,
}


def signature(settings: dict = SETTINGS) -> str:
    """A short stable hash of the preprocessing settings.

    >>> signature() == SIGNATURE, signature({**SETTINGS, "deskew": True}) == SIGNATURE
    (True, False)
    """
    blob = json.dumps(settings, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


SIGNATURE = signature()


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted centre, in pixel indices.

    >>> centre_of_mass(np.array([[0.0, 1.0], [0.0, 1.0]]))
    (0.5, 1.0)
    """
    total = float(image.sum())
    if total <= 0:
        h, w = image.shape
        return (h - 1) / 2, (w - 1) / 2
    rows = np.arange(image.shape[0], dtype=np.float64)
    cols = np.arange(image.shape[1], dtype=np.float64)
    return float(image.sum(1) @ rows / total), float(image.sum(0) @ cols / total)


def deskew(image: np.ndarray) -> np.ndarray:
    """Shear a 28×28 digit so its principal axis is vertical (second-moment deskewing).

    >>> slanted = np.zeros((28, 28), np.float32)
    >>> for row in range(4, 24): slanted[row, 8 + row // 2 : 11 + row // 2] = 1.0
    >>> upright = deskew(slanted)
    >>> cols = lambda img: np.nonzero(img.max(axis=0) > 0.5)[0]
    >>> len(cols(upright)) < len(cols(slanted))
    True
    """
    m = cv2.moments(image)
    if abs(m["mu02"]) < 1e-2:
        return image.copy()
    skew = m["mu11"] / m["mu02"]
    size = image.shape[0]
    warp = np.float32([[1, skew, -0.5 * size * skew], [0, 1, 0]])
    return cv2.warpAffine(image, warp, (size, size), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)


def to_mnist(crop: np.ndarray, *, settings: dict = SETTINGS) -> np.ndarray:
    """Turn one digit crop (2-D, ink high, values in [0, 1]) into a 28×28 float32 MNIST-style image.

    The crop may have any size and margins; only its ink's bounding box counts. A crop with no ink
    gives an all-zero image.

    >>> wide = np.zeros((10, 40), np.float32); wide[2:8, 5:35] = 1.0
    >>> out = to_mnist(wide)
    >>> out.shape, round(float(out.sum()))   # 30 × 6 ink scaled to 20 × 4: 80 pixels' worth
    ((28, 28), 80)
    """
    if crop.ndim != 2:
        raise ValueError(f"to_mnist expects a 2-D crop, got shape {crop.shape}")
    size, box = settings["size"], settings["box"]
    crop = np.clip(np.asarray(crop, dtype=np.float32), 0.0, 1.0)
    rows, cols = np.nonzero(crop.any(axis=1))[0], np.nonzero(crop.any(axis=0))[0]
    if len(rows) == 0:
        return np.zeros((size, size), np.float32)
    ink = crop[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = ink.shape
    scale = box / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(ink, (new_w, new_h), interpolation=interp)
    # Place the scaled ink so its centre of mass sits on the target centre (sub-pixel shift).
    cy, cx = centre_of_mass(small)
    ty, tx = settings["centre"]
    shift = np.float32([[1, 0, tx - cx], [0, 1, ty - cy]])
    out = cv2.warpAffine(small, shift, (size, size), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    if settings.get("deskew"):
        out = deskew(out)
    return np.clip(out, 0.0, 1.0)


def batch_to_mnist(crops: list[np.ndarray]) -> np.ndarray:
    """Stack many crops into one (N, 28, 28) float32 array, ready for a single model call.

    >>> batch_to_mnist([np.ones((30, 10), np.float32), np.ones((12, 12), np.float32)]).shape
    (2, 28, 28)
    """
    size = SETTINGS["size"]
    if not crops:
        return np.zeros((0, size, size), np.float32)
    return np.stack([to_mnist(c) for c in crops])
