"""Boxes → lines in reading order: top to bottom, each left to right.

>>> from ml.reading.boxes import Box
>>> boxes = [Box(50, 2, 20, 40), Box(0, 0, 20, 40), Box(10, 80, 20, 40)]
>>> [[b.x for b in line] for line in group_lines(boxes)]
[[0, 50], [10]]
"""

from __future__ import annotations

import bisect

import cv2
import numpy as np

from .boxes import Box
from .params import SEGMENT, SegmentParams


def group_lines(boxes: list[Box], *, params: SegmentParams = SEGMENT, level: bool = False) -> list[list[Box]]:
    """Lines top to bottom, each left to right; a box joins the line its vertical centre falls in.

    Each box is compared with the line's nearest box along the line, so a slightly rotated line still
    groups; a page photographed askew (lines at ``skew_min`` degrees or more, :func:`skew`) is grouped
    in coordinates turned by the lines' own angle, unless the page is known to be ``level`` (its ruled
    lines run level: :func:`level_rules`).

    >>> tilted = [Box(0, 0, 20, 40), Box(30, 8, 20, 40), Box(60, 16, 20, 40), Box(5, 80, 20, 40)]
    >>> [[b.x for b in line] for line in group_lines(tilted)]
    [[0, 30, 60], [5]]
    >>> steep = [Box(30 * i, 200 - 15 * i, 20, 40) for i in range(6)]    # a line rising at 27°
    >>> [len(line) for line in group_lines(steep)]
    [6]
    """
    angle = 0.0 if level else skew(boxes, params=params)
    if abs(angle) < params.skew_min:
        angle = 0.0
    cos, sin = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    # (along the line, across it) of each box's centre, the lines turned level.
    along = [b.x * cos - b.cy * sin for b in boxes]
    across = [b.cy * cos + (b.x + b.w / 2) * sin for b in boxes]
    lines: list[_Line] = []
    for i in sorted(range(len(boxes)), key=lambda i: across[i]):
        box = boxes[i]
        best, best_overlap = None, 0.0
        for line in lines:
            j = line.nearest(along[i])
            top = max(line.across[j] - line.boxes[j].h / 2, across[i] - box.h / 2)
            bottom = min(line.across[j] + line.boxes[j].h / 2, across[i] + box.h / 2)
            ratio = (bottom - top) / min(line.boxes[j].h, box.h)
            if ratio > params.line_overlap and ratio > best_overlap:
                best, best_overlap = line, ratio
        if best is None:
            best = _Line()
            lines.append(best)
        best.add(box, along[i], across[i])
    return [line.boxes for line in sorted(lines, key=lambda line: np.median(line.across))]


class _Line:
    """A line being grouped: its boxes kept in order along it, for finding the one nearest a new box."""

    def __init__(self) -> None:
        self.boxes: list[Box] = []
        self.along: list[float] = []
        self.across: list[float] = []

    def nearest(self, position: float) -> int:
        k = bisect.bisect_left(self.along, position)
        if k == len(self.along) or (k > 0 and position - self.along[k - 1] <= self.along[k] - position):
            return k - 1
        return k

    def add(self, box: Box, along: float, across: float) -> None:
        k = bisect.bisect_right(self.along, along)
        self.boxes.insert(k, box)
        self.along.insert(k, along)
        self.across.insert(k, across)


def skew(boxes: list[Box], *, params: SegmentParams = SEGMENT) -> float:
    """The angle of the lines in degrees (positive: rising to the right, as a page turned clockwise
    shows them): the angles from each box to its nearest neighbour to the right, among those within
    ``skew_reach`` box heights and less than 45° off level, as most of them agree (``skew_agree``); a
    slant that fewer than ``skew_backing`` of them, or no more than half, agree on is taken as level.

    >>> round(skew([Box(30 * i, 200 - 15 * i, 20, 40) for i in range(6)]), 1)
    26.6
    >>> skew([Box(0, 0, 20, 40), Box(50, 50, 20, 40), Box(0, 200, 20, 40), Box(50, 250, 20, 40)])  # diagonals
    0.0
    """
    if len(boxes) < 2:
        return 0.0
    cx = np.array([b.x + b.w / 2 for b in boxes])
    cy = np.array([b.cy for b in boxes])
    h = np.array([b.h for b in boxes], np.float64)
    order = np.argsort(cx)
    cx, cy, h = cx[order], cy[order], h[order]
    reach = params.skew_reach * h.max()
    # The median is steady: on a dense page a few hundred boxes tell the angle as well as all of them.
    angles = []
    for i in range(0, len(cx), max(1, len(cx) // params.skew_sample)):
        lo, hi = np.searchsorted(cx, cx[i], "right"), np.searchsorted(cx, cx[i] + reach, "right")
        dx, dy = cx[lo:hi] - cx[i], cy[i] - cy[lo:hi]
        near = (dx > 0) & (dx <= params.skew_reach * np.maximum(h[lo:hi], h[i])) & (np.abs(dy) < dx)
        if near.any():
            k = np.argmin(np.where(near, np.hypot(dx, dy), np.inf))
            angles.append(float(np.degrees(np.arctan2(dy[k], dx[k]))))
    angle = _agreed(angles, params.skew_agree)
    backing = sum(abs(a - angle) <= params.skew_agree for a in angles)
    if params.skew_backing and abs(angle) >= params.skew_min and (
            backing < params.skew_backing or 2 * backing <= len(angles)):
        return 0.0
    return angle


def _agreed(angles: list[float], agree: float) -> float:
    """The median of the largest group of ``angles`` within ``agree`` degrees of one another; of equal
    groups, the one nearest level; 0.0 without any.

    >>> _agreed([-1.4, -42.0], 8.0), _agreed([25.0, 27.0, -40.0], 8.0)
    (-1.4, 26.0)
    """
    if not angles:
        return 0.0
    values = np.sort(np.asarray(angles))
    ends = np.searchsorted(values, values + agree, "right")
    sizes = ends - np.arange(len(values))
    groups = [values[i : ends[i]] for i in np.flatnonzero(sizes == sizes.max())]
    return float(np.median(min(groups, key=lambda g: abs(float(np.median(g))))))


def line_height(line: list[Box]) -> float:
    """The median height of a line's boxes: the unit the cuts and the reader measure lengths in.

    >>> line_height([Box(0, 0, 10, 30), Box(20, 0, 10, 40), Box(40, 0, 10, 44)])
    40.0
    """
    return float(np.median([b.h for b in line]))


def group_rows(boxes: list[Box], digit_h: float, *, params: SegmentParams = SEGMENT) -> list[list[Box]]:
    """The naive grouping (ablation baseline): boxes whose centres lie within ``row_band`` digit heights
    of the previous box's, in top-to-bottom order, form a line.

    >>> [[b.x for b in line] for line in group_rows([Box(50, 2, 20, 40), Box(0, 0, 20, 40)], 40.0)]
    [[0, 50]]
    """
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.cy):
        if lines and abs(box.cy - lines[-1][-1].cy) < params.row_band * digit_h:
            lines[-1].append(box)
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.x) for line in lines]


def level_rules(rules: np.ndarray | None, length: float, *, params: SegmentParams = SEGMENT) -> bool:
    """Whether ``rules`` (``ink.remove_rules``' mask: 1 where a horizontal rule ran) holds ``skew_rules``
    or more separate horizontal rules ``length`` px long or more. Rules are found level or within a few
    degrees of it, so such a page is level: a sparse grid's digits (a sudoku's givens), whose nearest
    neighbours are a cell across and a cell down, agreed on a 42° slant and were read as diagonals.

    >>> rules = np.zeros((100, 300), np.uint8); rules[20, 10:290] = 1      # one rule: an underline
    >>> one = level_rules(rules, 200.0); rules[80, 10:290] = 1            # two: a ruled sheet, a grid
    >>> one, level_rules(rules, 200.0)
    (False, True)
    """
    if rules is None or not params.skew_rules:
        return False
    flat = rules & 1
    if not flat.any():
        return False
    _, _, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=8)
    return int((stats[1:, cv2.CC_STAT_WIDTH] >= length).sum()) >= params.skew_rules
