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
    dark; None for every other image (grey, no such grid, red ink darker than a dropout colour:
    a red pen, dark red rules, which :func:`ml.reading.ink.to_gray` keeps dark, or red that is not a
    grid's straight lines: digits drawn in red marker, a brown desk). Looked for on a copy of about
    ``probe_side`` px (see ``dropout_*`` in :class:`SegmentParams`).

    >>> sheet = np.full((200, 300, 3), 250, np.uint8)
    >>> sheet[::40, :] = sheet[:, ::40] = (190, 170, 250)                 # a pink grid
    >>> _ = cv2.line(sheet, (100, 60), (110, 140), (150, 60, 20), 4)      # a blue 1
    >>> red = dropout_gray(sheet); int(red[0, 5]), int(red[100, 105])
    (250, 20)
    >>> sheet[::40, :] = sheet[:, ::40] = (40, 40, 150)      # dark red rules: not a dropout colour
    >>> dropout_gray(sheet) is None
    True
    >>> drawn = np.full((100, 300, 3), 255, np.uint8)
    >>> _ = cv2.ellipse(drawn, (60, 50), (22, 38), 0, 0, 360, (40, 40, 240), 9)  # a 0 in red marker
    >>> dropout_gray(drawn) is None
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
    _, labels, stats, _ = cv2.connectedComponentsWithStats(red, connectivity=8)
    h, w = red.shape
    spread = params.dropout_spread
    wide = (stats[1:, cv2.CC_STAT_WIDTH] >= spread * w) | (stats[1:, cv2.CC_STAT_HEIGHT] >= spread * h)
    if not wide.any():
        return None
    if not _grid_lines(np.isin(labels, np.flatnonzero(wide) + 1).view(np.uint8), params):
        return None
    if np.median(r[red > 0]) < params.dropout_bright * np.percentile(r, 90):
        return None
    return np.ascontiguousarray(image[:, :, 2])


def _grid_lines(red: np.ndarray, params: SegmentParams) -> bool:
    """Whether the red components in the 0/1 mask ``red`` (those spanning half the probe) are a grid's
    lines: ``dropout_lines`` of their pixels on straight rows or columns half the image long, and at
    most ``dropout_thick`` of them left by a 3 x 3 erosion (lines, not a solid block). Red digits drawn
    taller than half the image are curves (real: 0.04-0.18 on such runs; grids 0.6-0.87); a brown
    desk at the frame is solid (0.92 left; grids' lines 0.01-0.65)."""
    h, w = red.shape
    rows = cv2.morphologyEx(red, cv2.MORPH_OPEN, np.ones((1, max(3, w // 2)), np.uint8))
    columns = cv2.morphologyEx(red, cv2.MORPH_OPEN, np.ones((max(3, h // 2), 1), np.uint8))
    total = int(red.sum())
    straight = int((rows | columns).sum())
    solid = int(cv2.erode(red, np.ones((3, 3), np.uint8)).sum())
    return straight >= params.dropout_lines * total and solid <= params.dropout_thick * total
