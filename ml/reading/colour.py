"""Colour: a form printed in a dropout colour is read where its grid vanishes.

Mark sheets and forms are often printed in pink or light red so that a scanner, or a reader, can
leave the grid out; the darkest channel (:func:`ml.reading.ink.to_gray`, which keeps blue and red pen
dark) makes that grid as dark as the ink, and a pink grid of cells then reads as one huge box.
"""

from __future__ import annotations

import cv2
import numpy as np

from .params import SEGMENT, SegmentParams


def dropout_gray(image: np.ndarray, *, params: SegmentParams = SEGMENT) -> np.ndarray | None:
    """The red channel of a BGR ``image`` whose form is printed in a dropout colour (pink or light red
    grid lines: mark sheets), where the grid is as bright as the paper while blue or black ink stays
    dark; None for every other image (grey, no such grid, or red ink darker than a dropout colour:
    a red pen, dark red rules, which :func:`ml.reading.ink.to_gray` keeps dark). Looked for on a copy of about
    ``probe_side`` px (see ``dropout_*`` in :class:`SegmentParams`).

    >>> sheet = np.full((200, 300, 3), 250, np.uint8)
    >>> sheet[::40, :] = sheet[:, ::40] = (190, 170, 250)                 # a pink grid
    >>> _ = cv2.line(sheet, (100, 60), (110, 140), (150, 60, 20), 4)      # a blue 1
    >>> red = dropout_gray(sheet); int(red[0, 5]), int(red[100, 105])
    (250, 20)
    >>> sheet[::40, :] = sheet[:, ::40] = (40, 40, 150)      # dark red rules: not a dropout colour
    >>> dropout_gray(sheet) is None
    True
    """
    if image.ndim != 3 or image.shape[2] < 3:
        return None
    step = max(1, max(image.shape[:2]) // params.probe_side)
    small = image[:, :, :3] if image.shape[2] == 3 else np.ascontiguousarray(image[:, :, :3])
    if step > 1:  # nearest pixels: a third of the time of a strided copy
        size = (image.shape[1] // step, image.shape[0] // step)
        small = cv2.resize(small, size, interpolation=cv2.INTER_NEAREST)
    b, g, r = cv2.split(small)
    red = (cv2.subtract(r, cv2.max(g, b)) >= params.dropout_gap).view(np.uint8)
    if not red.any():
        return None
    _, _, stats, _ = cv2.connectedComponentsWithStats(red, connectivity=8)
    h, w = red.shape
    spread = params.dropout_spread
    wide = (stats[1:, cv2.CC_STAT_WIDTH] >= spread * w) | (stats[1:, cv2.CC_STAT_HEIGHT] >= spread * h)
    if not wide.any():
        return None
    if np.median(r[red > 0]) < params.dropout_bright * np.percentile(r, 90):
        return None
    return np.ascontiguousarray(image[:, :, 2])
