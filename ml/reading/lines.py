"""Boxes → lines in reading order: top to bottom, each left to right.

>>> from ml.reading.boxes import Box
>>> boxes = [Box(50, 2, 20, 40), Box(0, 0, 20, 40), Box(10, 80, 20, 40)]
>>> [[b.x for b in line] for line in group_lines(boxes)]
[[0, 50], [10]]
"""

from __future__ import annotations

import numpy as np

from .boxes import Box
from .params import SEGMENT, SegmentParams


def group_lines(boxes: list[Box], *, params: SegmentParams = SEGMENT) -> list[list[Box]]:
    """Lines top to bottom, each left to right; a box joins the line its vertical centre falls in.

    Each box is compared with the line's nearest box in x, so a slightly rotated line still groups.

    >>> tilted = [Box(0, 0, 20, 40), Box(30, 8, 20, 40), Box(60, 16, 20, 40), Box(5, 80, 20, 40)]
    >>> [[b.x for b in line] for line in group_lines(tilted)]
    [[0, 30, 60], [5]]
    """
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.cy):
        best, best_overlap = None, 0.0
        for line in lines:
            near = min(line, key=lambda b: abs(b.x - box.x))
            overlap = min(near.y2, box.y2) - max(near.y, box.y)
            ratio = overlap / min(near.h, box.h)
            if ratio > params.line_overlap and ratio > best_overlap:
                best, best_overlap = line, ratio
        if best is None:
            lines.append([box])
        else:
            best.append(box)
    lines = [sorted(line, key=lambda b: b.x) for line in lines]
    return sorted(lines, key=lambda line: np.median([b.cy for b in line]))


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
