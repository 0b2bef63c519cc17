"""Numbers side by side in one row are separate lines: the cells of a table row ("11  12  13"), two
columns of numbers on one sheet. The segmenter groups a row's digits into one line (it must: a line of
digits is told by its row, not by its spacing); here a line is split where a gap between two of its
digits is both wide in itself and far wider than the line's usual gap, and either very wide or
one of a column's edges running down through other lines too. Digits written in comb boxes
(a postcode, one digit a box) are evenly spaced and stay one line; a cheque's amount read as a strip
is never split.

>>> def row(*xs):
...     return [Digit(1, 0.99, [x, 0, 12, 30], 0, False) for x in xs]
>>> [d.line for d in split_columns(row(0, 15, 100, 115, 200, 215), [])[0]]   # three numbers far apart
[0, 0, 1, 1, 2, 2]
>>> [d.line for d in split_columns(row(0, 50, 100, 150), [])[0]]            # evenly spaced: one number
[0, 0, 0, 0]
"""

from __future__ import annotations

import numpy as np

from .params import READER, ReaderParams
from .result import Digit, Separator


def split_columns(digits: list[Digit], separators: list[Separator], *, params: ReaderParams = READER
                  ) -> tuple[list[Digit], list[Separator]]:
    """``digits`` with each line split at its column gaps (:func:`column_breaks`) and the lines
    renumbered in reading order (a line left without digits, all dropped by the line reader, is no
    line), and ``separators`` moved to the part of their line they stand in.
    Neither list is modified; digits and separators are new objects where their line changed.

    >>> digits = [Digit(1, 0.99, [x, 0, 12, 30], 0, False) for x in (0, 15, 100, 115)]
    >>> split, marks = split_columns(digits + [Digit(2, 0.9, [0, 60, 12, 30], 2, False)],
    ...                              [Separator(".", [130, 25, 3, 3], 0)])
    >>> [d.line for d in split], [m.line for m in marks]
    ([0, 0, 1, 1, 2], [1])
    """
    count = max((d.line for d in digits), default=-1) + 1
    lines = [[d for d in digits if d.line == i] for i in range(count)]
    breaks = column_breaks(lines, params=params)
    out: list[Digit] = []
    spans: dict[int, list[tuple[int, float]]] = {}  # old line -> (new line, its left edge) per part
    new = 0
    for i, line in enumerate(lines):
        spans[i] = []
        for k, d in enumerate(line):
            if k == 0 or k in breaks[i]:
                if k:
                    new += 1
                spans[i].append((new, d.box[0]))
            out.append(d if d.line == new else Digit(d.digit, d.confidence, d.box, new, d.uncertain,
                                                     d.alternatives))
        new += bool(line)
    moved = []
    for s in separators:
        parts = spans.get(s.line)
        if not parts:
            continue  # its line's digits were all dropped (by the line reader): nothing to separate
        line = max((p for p in parts if p[1] <= s.box[0]), default=parts[0], key=lambda p: p[1])[0]
        moved.append(s if line == s.line else Separator(s.char, s.box, line))
    return out, moved


def column_breaks(lines: list[list[Digit]], *, params: ReaderParams = READER) -> list[set[int]]:
    """For each line (its digits left to right), the indices of the digits that start a new column.

    A gap is wide when it is at least ``column_gap`` of the line's height (the median digit height)
    and ``column_ratio`` times the line's usual gap (the median of its gaps, at least a tenth of its
    height); a line of two digits has no usual gap to compare with. A wide gap is a column's edge
    when it is at least ``column_alone`` line heights, or when wide gaps of ``column_rows`` - 1
    other lines overlap it across: a table's columns run down the page, while a digit lost from a
    number (the gap it leaves is as wide as a table's) leaves a gap in its line only.

    >>> def row(*xs, y=0):
    ...     return [Digit(1, 0.99, [x, y, 12, 30], 0, False) for x in xs]
    >>> column_breaks([row(0, 15, 30, 90, 105)])                       # one line, a gap of 2 heights
    [set()]
    >>> column_breaks([row(0, 15, 30, 90, 105, y=40 * k) for k in range(3)])    # three rows of cells
    [{3}, {3}, {3}]
    >>> column_breaks([row(0, 15, 30, 120, 135), row(0, 100)])        # 3 heights alone; two digits
    [{3}, set()]
    """
    wide = [_wide_gaps(line, params) for line in lines]
    found: list[set[int]] = []
    for i, gaps in enumerate(wide):
        keep = set()
        for k, size, (x0, x1) in gaps:
            across = sum(any(a0 < x1 and x0 < a1 for _, _, (a0, a1) in other)
                         for j, other in enumerate(wide) if j != i)
            if size >= params.column_alone or across >= params.column_rows - 1:
                keep.add(k)
        found.append(keep)
    return found


def _wide_gaps(line: list[Digit], params: ReaderParams) -> list[tuple[int, float, tuple[int, int]]]:
    """(index of the digit after it, its width in line heights, its span across) of each wide gap."""
    if len(line) < 3 or params.column_gap <= 0:
        return []
    height = float(np.median([d.box[3] for d in line]))
    ends = [(a.box[0] + a.box[2], b.box[0]) for a, b in zip(line, line[1:])]
    gaps = np.array([x1 - x0 for x0, x1 in ends], np.float64)
    usual = max(float(np.median(gaps)), 0.1 * height)
    wide = (gaps >= params.column_gap * height) & (gaps >= params.column_ratio * usual)
    return [(int(k) + 1, float(gaps[k] / height), ends[k]) for k in np.flatnonzero(wide)]
