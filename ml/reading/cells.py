"""The sides of a form's cells: digits written one to a box, in a row of boxes sharing their sides (a
student number, a date, a postcode, a score card's holes), or on a comb's ticks rising from a base
line. ``ink.remove_rules`` takes the row's long top and bottom lines, but its uprights are a cell
tall, as short as a digit, and each read as a confident 1 (a row of eight boxes read as seventeen
digits); a digit touching a side was read together with it.

A side is told from a written 1 by the row it stands in, not by its own shape: straight uprights,
thin, four or more of the same height standing on the same line at the spacing of cells, with the
digits between them and none across them; and either taller than those digits and reaching above and
below them (a box's sides) or far shorter and standing at their feet (a comb's ticks). A row of 1s
written among other digits is as tall as they are, and stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .boxes import Box, member
from .params import SEGMENT, SegmentParams


@dataclass
class _Upright:
    """A straight upright run of ink: its columns ``x``..``x2`` and rows ``y``..``y2`` (ends excluded)
    and its label among the opening's components."""

    x: int
    y: int
    x2: int
    y2: int
    label: int

    @property
    def h(self) -> int:
        return self.y2 - self.y

    @property
    def centre(self) -> float:
        return (self.x + self.x2) / 2


def remove_cell_sides(ink: np.ndarray, digit_px: float, rules: np.ndarray | None = None, *,
                      params: SegmentParams = SEGMENT) -> tuple[np.ndarray, np.ndarray]:
    """The ink map without the sides of cells that digits are written in, one to a cell, and the uint8
    mask of the sides taken out (1 where one ran).

    Uprights are straight runs of ink at least ``cell_piece`` digit heights long (``digit_px`` pixels
    each) and at most ``cell_thin`` wide; they are a row of cells' sides (:func:`_rows`) when
    ``cell_count`` or more line up, and the ink between them holds digits the sides are not
    (:func:`_holds_digits`; ``rules``: where ``ink.remove_rules`` found horizontal rules, a comb's base).
    Their ink is subtracted, so a digit touching a side comes away from it.

    >>> ink = np.zeros((120, 400), np.float32)
    >>> for x in (20, 80, 140, 200, 260): ink[20:100, x : x + 2] = 0.8     # a row of four boxes' sides
    >>> for x in (40, 100, 160, 220): ink[35:85, x : x + 20] = 0.8; ink[45:75, x + 5 : x + 15] = 0  # 0s
    >>> ink[35:85, 330:333] = 0.8                                           # a 1 beside the row
    >>> cleaned, sides = remove_cell_sides(ink, 50.0)
    >>> [round(float(v), 3) for v in (cleaned[:, 15:25].max(), cleaned[60, 40], cleaned[60, 331])]
    [0.0, 0.8, 0.8]
    >>> [int(x) for x in np.flatnonzero(sides[60])[::4]]                   # five sides, 2 px and a rim
    [19, 79, 139, 199, 259]
    """
    strong = int(params.min_contrast * 255)
    scaled = (ink * 255).astype(np.uint8)
    piece = max(3, int(params.cell_piece * digit_px))
    opened = cv2.morphologyEx(scaled, cv2.MORPH_OPEN, np.ones((piece, 1), np.uint8))
    inked = (opened > strong).view(np.uint8)
    none = np.zeros(ink.shape, np.uint8)
    if not inked.any():
        return ink, none
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inked, connectivity=8)
    thin = params.cell_thin * digit_px
    uprights = [u for i in range(1, count) for u in _cores(labels, stats[i], i, thin, params.cell_lean)]
    if len(uprights) < 3:
        return ink, none
    mask = (scaled > strong).view(np.uint8)
    rows = [row for row in _rows(uprights, digit_px, params)
            if _holds_digits(row, mask, rules, digit_px, params)]
    sides = [s for row in rows for s in row]
    if not sides:
        return ink, none
    found = np.zeros(ink.shape, np.uint8)
    for s in sides:
        # The side's own pixels in its columns and two either side (a side photographed a little
        # askew), and its antialiased rim a pixel further.
        cols = slice(max(0, s.x - 2), s.x2 + 2)
        found[s.y : s.y2, cols] |= (labels[s.y : s.y2, cols] == s.label).view(np.uint8)
    found = cv2.dilate(found, np.ones((1, 3), np.uint8))
    cleaned = ink.copy()
    lift = cv2.dilate(opened, np.ones((1, 3), np.uint8))[found > 0].astype(np.float32) / 255
    cleaned[found > 0] = np.clip(ink[found > 0] - lift, 0.0, 1.0)
    return cleaned, found


def _cores(labels: np.ndarray, stat: np.ndarray, label: int, thin: float, lean: float) -> list[_Upright]:
    """The uprights at the cores of the opening's component ``label`` (its ``stat`` row): the runs of
    columns where it runs nearly as long as its longest (0.7 of it), each at most ``thin`` plus ``lean``
    of its height wide. A digit touching a side, or the two sides of its box, widens the component, not
    its cores."""
    x, y, w, h = (int(v) for v in stat[:4])
    if w <= 2:
        return [_Upright(x, y, x + w, y + h, label)]
    own = labels[y : y + h, x : x + w] == label
    counts = own.sum(axis=0)
    long = np.flatnonzero(counts >= 0.7 * counts.max())
    found = []
    for run in np.split(long, np.flatnonzero(np.diff(long) > 1) + 1):
        left, right = int(run[0]), int(run[-1]) + 1
        rows = np.flatnonzero(own[:, left:right].any(axis=1))
        height = int(rows[-1] - rows[0] + 1)
        if right - left <= thin + lean * height:
            found.append(_Upright(x + left, y + int(rows[0]), x + right, y + int(rows[-1]) + 1, label))
    return found


def _rows(uprights: list[_Upright], digit_px: float, params: SegmentParams) -> list[list[_Upright]]:
    """The uprights in rows of ``cell_count`` or more, left to right, each ``cell_gap`` digit heights from the
    one before (a cell's width) with its top and bottom within ``cell_align`` digit heights of that one's
    (a row photographed at a slant stays one row), the widths alike (:func:`_even`)."""
    tol = params.cell_align * digit_px
    low, high = (g * digit_px for g in params.cell_gap)
    chains: list[list[_Upright]] = []
    for u in sorted(uprights, key=lambda u: u.x):
        fits = [c for c in chains if low <= u.centre - c[-1].centre <= high
                and abs(u.y - c[-1].y) <= tol and abs(u.y2 - c[-1].y2) <= tol]
        if fits:
            min(fits, key=lambda c: abs(u.y - c[-1].y) + abs(u.y2 - c[-1].y2)).append(u)
        else:
            chains.append([u])
    return [c for c in chains if len(c) >= params.cell_count and _even(c, params.cell_even)]


def _even(row: list[_Upright], spread: float) -> bool:
    """Whether the gaps between ``row``'s uprights are alike: each within ``spread`` of their median,
    or of twice it (a side lost to a digit written across it)."""
    gaps = np.diff([u.centre for u in row])
    cell = float(np.median(gaps))
    return all(min(abs(g - cell), abs(g - 2 * cell)) <= spread * cell for g in gaps)


def _holds_digits(row: list[_Upright], mask: np.ndarray, rules: np.ndarray | None, digit_px: float,
                  params: SegmentParams) -> bool:
    """Whether ``row``'s cells hold digits its uprights are not: ink in at least half the cells, and the
    uprights either ``cell_taller`` times as tall as that ink, ``cell_side`` digit heights or more,
    and reaching above and below it (a box's sides); or, standing on a horizontal rule (in
    ``rules``), ``cell_tick`` of its height or less with its foot among them (a comb's ticks)."""
    side_h = float(np.median([u.h for u in row]))
    slack = params.cell_align * digit_px
    reach = int(digit_px)
    spans, extents = [], []
    for left, right in zip(row, row[1:]):
        top, bottom = min(left.y, right.y), max(left.y2, right.y2)
        rows = slice(max(0, top - reach), bottom + reach)
        # The digits reach into the sides' rows; a comb's short ticks, a digit's height above their feet.
        extent = _content(mask[rows, left.x2 + 1 : right.x - 1], min(top, bottom - reach) - rows.start,
                          bottom - rows.start, params.cell_ink * digit_px * digit_px)
        if extent:
            spans.append((top, bottom))
            extents.append((rows.start + extent[0], rows.start + extent[1]))
    if 2 * len(extents) < len(row) - 1:
        return False
    content_h = float(np.median([b - t for t, b in extents]))
    if side_h >= max(params.cell_taller * content_h, params.cell_side * digit_px):
        return all(t >= top - slack and b <= bottom + slack for (top, bottom), (t, b) in zip(spans, extents))
    if rules is None or side_h > params.cell_tick * content_h or side_h < slack:
        return False
    on_rule = sum(bool(rules[u.y2 - int(slack) : u.y2 + int(slack) + 1, max(0, u.x - 2) : u.x2 + 2].any())
                  for u in row)
    return 2 * on_rule >= len(row) and all(top - reach / 2 <= b <= bottom + slack
                                           for (top, bottom), (_, b) in zip(spans, extents))


def _content(cell: np.ndarray, top: int, bottom: int, least: float) -> tuple[int, int] | None:
    """The rows (first, end) of the ink in ``cell`` that reaches into rows ``top``..``bottom`` (the
    next row of cells' digits, above or below, does not), or None where it is less than ``least`` px."""
    if cell.size == 0 or not cell.any():
        return None
    count, _, stats, _ = cv2.connectedComponentsWithStats(cell, connectivity=8)
    ys, hs, areas = stats[1:, cv2.CC_STAT_TOP], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    inside = (ys < bottom) & (ys + hs > top)
    if areas[inside].sum() < least:
        return None
    return int(ys[inside].min()), int((ys + hs)[inside].max())


def is_grid(labels: np.ndarray, box: Box, *, params: SegmentParams = SEGMENT) -> bool:
    """Whether ``box``'s ink (its components in ``labels``) is a grid of cells: thin lines across
    ``grid_span`` of its width and down that share of its height, two or more each way and three or
    more one way, the outer ones a third of its size apart (followed through a drift of ``grid_drift``
    of its size, a photo a few degrees off square, and across a pixel's gap, a pale line broken by the
    threshold). Digits touching a score card's lines make it one component as big as the card; no
    digit has three thin straight strokes across its whole width (a bold digit's bar is thick).

    >>> labels = np.zeros((60, 200), np.int32); labels[5, 5:195] = labels[55, 5:195] = 1
    >>> for x in range(5, 200, 38): labels[5:56, x] = 1                        # a row of cells
    >>> labels[15:45, 20:24] = 1; labels[15:19, 20:30] = 1                    # a 7 touching a side
    >>> is_grid(labels, Box(5, 5, 191, 51, [1])), is_grid(labels, Box(20, 15, 10, 30, [1]))
    (True, False)
    """
    if min(box.w, box.h) < 8:
        return False
    own = member(labels[box.y : box.y2, box.x : box.x2], box.labels)
    span, drift = params.grid_span, params.grid_drift
    across = _lines(own, max(2, int(span * box.w)), int(drift * box.w) // 2 + 1)
    down = _lines(np.ascontiguousarray(own.T), max(2, int(span * box.h)), int(drift * box.h) // 2 + 1)
    return min(across, down) >= 2 and max(across, down) >= 3


def _lines(mask: np.ndarray, length: int, drift: int) -> int:
    """How many thin lines run along ``mask``'s rows for ``length`` px (through a drift of ``drift`` px
    and gaps of one): 0 unless the outer ones are a third of its height apart."""
    thick = cv2.dilate(mask, np.ones((2 * drift + 1, 1), np.uint8))
    bridged = cv2.morphologyEx(thick, cv2.MORPH_CLOSE, np.ones((1, 3), np.uint8))
    opened = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    rows = np.flatnonzero(opened.any(axis=1))
    if rows.size == 0 or rows[-1] - rows[0] < 0.3 * mask.shape[0]:
        return 0
    groups = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    thin = 2 * drift + 1 + max(2.0, 0.08 * mask.shape[0])
    return sum(len(g) <= thin for g in groups)
