"""Ink and light that every page generator shares: an MNIST digit as ink of a given height, and a
light ramp across a page.

>>> import numpy as np
>>> digit = np.zeros((28, 28), np.uint8); digit[4:24, 12:16] = 255
>>> digit_ink(digit, 60).shape, float(light_ramp(10, 20, 0.0)[0, -1])
((60, 12), 1.0)
"""

from __future__ import annotations

import cv2
import numpy as np

INKS = {"black": (25, 25, 30), "blue": (150, 60, 25), "pencil": (95, 95, 100)}  # BGR


def digit_ink(image: np.ndarray, height: int, *, stroke: int = 0) -> np.ndarray:
    """One MNIST digit cut to its ink, scaled to ``height`` px, with its stroke thickened or thinned.

    >>> digit = np.zeros((28, 28), np.uint8); digit[4:24, 12:16] = 255
    >>> digit_ink(digit, 60).shape, float(digit_ink(digit, 60).max())
    ((60, 12), 1.0)
    """
    rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
    ink = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255
    scale = height / ink.shape[0]
    ink = cv2.resize(ink, (max(1, round(ink.shape[1] * scale)), height), interpolation=cv2.INTER_CUBIC)
    if stroke:
        k = np.ones((abs(stroke) * 2 + 1,) * 2, np.uint8)
        ink = cv2.dilate(ink, k) if stroke > 0 else cv2.erode(ink, k)
    return np.clip(ink, 0, 1)


def light_ramp(h: int, w: int, angle: float) -> np.ndarray:
    """A linear ramp across an (h, w) page in direction ``angle``, from 0 to 1: light falling off.

    >>> ramp = light_ramp(10, 20, 0.0)                      # left to right
    >>> float(ramp[0, 0]), float(ramp[0, -1])
    (0.0, 1.0)
    """
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = np.cos(angle) * xx / w + np.sin(angle) * yy / h
    return (ramp - ramp.min()) / max(np.ptp(ramp), 1e-6)
