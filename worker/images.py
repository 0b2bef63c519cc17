"""The annotated image's files: full size (PNG), sized for a screen (JPEG) and a thumbnail (JPEG).

Plain numpy and OpenCV (no Django), so that ``deploy/measure_images.py`` weighs exactly what the worker
stores.
"""

from __future__ import annotations

import cv2
import numpy as np

THUMBNAIL_SIDE = 320  # pixels: the history page shows them at about half that, sharp on dense screens
# What pages show: a JPEG whose longest side fits a large screen (the full-size PNG, 5-9 MB for a phone
# photo, is a link away), at the best of these qualities that keeps it under SCREEN_BYTES.
SCREEN_SIDE = 1600
SCREEN_BYTES = 500 * 1024
SCREEN_QUALITIES = (85, 75, 65, 55)


def screen_jpeg(image: np.ndarray, *, side: int = SCREEN_SIDE, budget: int = SCREEN_BYTES) -> bytes:
    """``image`` shrunk to fit ``side`` (never enlarged) as a JPEG: the first of ``SCREEN_QUALITIES``
    under ``budget`` bytes, else the lowest (a noisy photo; still far smaller than its PNG)."""
    small = thumbnail(image, side=side)
    for quality in SCREEN_QUALITIES:
        data = encode(small, ".jpg", quality=quality)
        if len(data) <= budget:
            break
    return data


def thumbnail(image: np.ndarray, *, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """``image`` shrunk to fit ``side`` × ``side`` (never enlarged)."""
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def encode(image: np.ndarray, extension: str, *, quality: int = 80) -> bytes:
    options = [cv2.IMWRITE_JPEG_QUALITY, quality] if extension == ".jpg" else []
    ok, data = cv2.imencode(extension, image, options)
    if not ok:
        raise RuntimeError(f"could not encode the annotated image as {extension}")
    return data.tobytes()
