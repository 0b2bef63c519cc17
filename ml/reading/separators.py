"""The marks between the digits of a line that are not digits but say how to read them: the ``.`` and
``,`` of an amount or a date, the ``-`` of a date or a phone number. The segmenter drops them as too
small to be digits; here those dropped boxes are given back to the line they sit in, by where they sit
in it and their shape, so a reading can show ``1.500,00`` while its digits stay ``150000``. The dots
of a dotted line the number is written on are none of them separators.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .boxes import Box
from .lines import line_height
from .params import SEGMENT, SegmentParams


class Mark(NamedTuple):
    """A separator ``char`` (``.``, ``,`` or ``-``) found at ``box`` (work pixels)."""

    char: str
    box: Box


class _Line(NamedTuple):
    height: float
    top: float  # the median top and foot of its digits
    bottom: float
    lefts: np.ndarray  # its digits' x and x2
    rights: np.ndarray


def _describe(line: list[Box]) -> _Line:
    top, bottom = float(np.median([b.y for b in line])), float(np.median([b.y2 for b in line]))
    lefts, rights = np.array([b.x for b in line]), np.array([b.x2 for b in line])
    return _Line(line_height(line), top, bottom, lefts, rights)


def find_separators(lines: list[list[Box]], dropped: list[Box], digit_h: float, *,
                    params: SegmentParams = SEGMENT) -> list[list[Mark]]:
    """For each line, the separators among ``dropped`` (the boxes too small or too flat to be digits)
    that sit in it, left to right.

    >>> line = [Box(0, 0, 20, 40), Box(40, 0, 20, 40)]                       # two digits, 40 px tall
    >>> dot, dash, speck = Box(27, 34, 5, 5, area=20), Box(22, 18, 14, 4, area=50), Box(28, 36, 1, 1)
    >>> [[m.char for m in find_separators([line], [mark], 40.0)[0]] for mark in (dot, dash, speck)]
    [['.'], ['-'], []]
    """
    marks: list[list[Mark]] = [[] for _ in lines]
    if not lines or not dropped:
        return marks
    info = [_describe(line) for line in lines]
    heights = np.array([i.height for i in info])
    tops, bottoms = np.array([i.top for i in info]), np.array([i.bottom for i in info])
    starts, ends = np.array([i.lefts[0] for i in info]), np.array([i.rights[-1] for i in info])
    outside = np.zeros(len(lines), int)  # dots at a line's foot beyond its digits
    for box in dropped:
        if max(box.w, box.h) < params.separator_min * digit_h:
            continue  # a speck of noise, not a mark anyone wrote
        cx = box.x + box.w / 2
        # The lines it could belong to: beside their digits' band, inside their run of digits.
        beside = (tops - 0.5 * heights <= box.cy) & (box.cy <= bottoms + 0.5 * heights)
        inside = (starts - 0.2 * heights < cx) & (cx < ends + params.separator_after * heights)
        for k in np.flatnonzero(beside & inside):
            char = _separator_in(box, info[k], params)
            if char:
                marks[k].append(Mark(char, box))
                break
        reach = params.dotted_reach * heights
        for k in np.flatnonzero(beside & ~inside & (starts - reach < cx) & (cx < ends + reach)):
            outside[k] += _separator_in(box, info[k], params) == "."
    return [sorted(m, key=lambda mark: mark.box.x) if not _dotted(m, info[k], outside[k], params)
            else [mark for mark in m if mark.char != "."] for k, m in enumerate(marks)]


def _dotted(marks: list[Mark], line: _Line, outside: int, params: SegmentParams) -> bool:
    """Whether a line's dots are a dotted line it is written on: ``outside`` of them beyond its digits
    (``dotted_outside`` or more), or ``dotted_gap`` in one gap between its digits.

    >>> line = _describe([Box(0, 0, 20, 40), Box(40, 0, 20, 40)])
    >>> dot = lambda x: Mark(".", Box(x, 36, 4, 4))
    >>> _dotted([dot(28)], line, 0, SEGMENT), _dotted([dot(24), dot(32)], line, 0, SEGMENT)
    (False, True)
    """
    if outside >= params.dotted_outside:
        return True
    gaps = np.searchsorted(line.lefts, [m.box.x for m in marks if m.char == "."])
    return bool(len(gaps) and np.bincount(gaps).max() >= params.dotted_gap)


def _separator_in(box: Box, line: _Line, params: SegmentParams) -> str | None:
    """The separator ``box`` is in ``line``, or None: between two digits rather than on one, and shaped
    and placed as a ``.``, ``,`` or ``-``."""
    overlap = np.minimum(line.rights, box.x2) - np.maximum(line.lefts, box.x)
    if (overlap > 0.5 * box.w).any():
        return None  # on a digit, not between two
    line_h, bottom = line.height, line.bottom
    where = (box.cy - line.top) / max(bottom - line.top, 1.0)  # 0 at the digits' top, 1 at their foot
    if box.h <= params.dash_height * line_h and box.w >= 1.5 * box.h and 0.3 <= where <= 0.75:
        return "-" if box.w <= params.dash_width * line_h else None
    if not 0.7 <= where <= 1.4 or box.h > params.comma_size * line_h:
        return None
    fill = box.area / max(box.w * box.h, 1)
    # A comma is a tail: taller than wide, or a thin slant (half its box inked) that reaches below the
    # digits' foot. A dot is a filled round blob on it.
    if box.h >= 1.3 * box.w or (fill < params.dot_fill and box.y2 > bottom + 0.05 * line_h):
        return ","
    round_ = box.h <= 2 * box.w and box.w <= 2 * box.h
    return "." if round_ and max(box.w, box.h) <= params.dot_size * line_h else None
