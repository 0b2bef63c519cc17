"""The sides of a form's cells: digits written one to a box, in a row of boxes sharing their sides (a
student number, a date, a postcode, a score card's holes), or on a comb's ticks rising from a base
line. ``ink.remove_rules`` takes the row's long top and bottom lines, but its uprights are a cell
tall, as short as a digit, and each read as a confident 1 (a row of eight boxes read as seventeen
digits); a digit touching a side was read together with it.

A side is told from a written 1 by the row it stands in, not by its own shape: straight uprights,
thin, five or more of the same height standing on the same line at the spacing of cells, with the
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
    and its labels among the opening's components (a pale side broken into pieces has several)."""

    x: int
    y: int
    x2: int
    y2: int
    labels: list[int]

    @property
    def h(self) -> int:
        return self.y2 - self.y

    @property
    def centre(self) -> float:
        return (self.x + self.x2) / 2


def remove_cell_sides(ink: np.ndarray, digit_px: float, rules: np.ndarray | None = None, *,
                      params: SegmentParams = SEGMENT) -> tuple[np.ndarray, np.ndarray | None]:
    """The ink map without the sides of cells that digits are written in, one to a cell, and the uint8
    mask of the sides taken out (1 where one ran), or None where there were none (most images).

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
    if not inked.any():
        return ink, None
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inked, connectivity=8)
    thin = params.cell_thin * digit_px
    uprights = [u for i in range(1, count) for u in _cores(labels, stats[i], i, thin, params.cell_lean)]
    uprights = _with_peers(_joined(uprights, max(2.0, params.cell_join * digit_px)), params)
    if len(uprights) < params.cell_count:
        return ink, None
    mask = (scaled > strong).view(np.uint8)
    rows = [row for row in _rows(uprights, digit_px, params)
            if _holds_digits(row, mask, rules, digit_px, params)]
    if not rows:
        return ink, None
    found = np.zeros(ink.shape, np.uint8)
    slack = int(params.cell_align * digit_px) + 1
    for row in rows:
        row = _ends(row, uprights, params)
        top, bottom = _span(row)
        top, bottom = int(top) - slack, int(bottom) + slack
        for u in row + _doubles(row, uprights, params.cell_double * digit_px):
            # The side's upright ink in its columns and one either side (a side photographed a little
            # askew), over the row's height: the pieces of a pale side too short to be found.
            band = slice(max(0, min(u.y, top)), max(u.y2, bottom)), slice(max(0, u.x - 1), u.x2 + 1)
            found[band] |= inked[band]
    found = cv2.dilate(found, np.ones((1, 3), np.uint8))
    cleaned = ink.copy()
    lift = cv2.dilate(opened, np.ones((1, 3), np.uint8))[found > 0].astype(np.float32) / 255
    cleaned[found > 0] = np.clip(ink[found > 0] - lift, 0.0, 1.0)
    return cleaned, found


def _doubles(row: list[_Upright], uprights: list[_Upright], near: float) -> list[_Upright]:
    """The uprights beside a side of ``row``, ``near`` px or less from it, as long as it and beside it
    all along: a side printed double (two hairlines), which goes whole."""
    def beside(v: _Upright, u: _Upright) -> bool:
        return (abs(v.centre - u.centre) <= near and v.h >= 0.9 * u.h
                and min(v.y2, u.y2) - max(v.y, u.y) >= 0.9 * u.h)
    return [v for v in uprights if all(v is not u for u in row) and any(beside(v, u) for u in row)]


def _cores(labels: np.ndarray, stat: np.ndarray, label: int, thin: float, lean: float) -> list[_Upright]:
    """The uprights at the cores of the opening's component ``label`` (its ``stat`` row): the runs of
    columns where it runs nearly as long as its longest (0.7 of it), each at most ``thin`` plus ``lean``
    of its height wide. A digit touching a side, or the two sides of its box, widens the component, not
    its cores."""
    x, y, w, h = (int(v) for v in stat[:4])
    if w <= 2:
        return [_Upright(x, y, x + w, y + h, [label])]
    own = labels[y : y + h, x : x + w] == label
    counts = own.sum(axis=0)
    long = np.flatnonzero(counts >= 0.7 * counts.max())
    found = []
    for run in np.split(long, np.flatnonzero(np.diff(long) > 1) + 1):
        left, right = int(run[0]), int(run[-1]) + 1
        rows = np.flatnonzero(own[:, left:right].any(axis=1))
        height = int(rows[-1] - rows[0] + 1)
        if right - left <= thin + lean * height:
            found.append(_Upright(x + left, y + int(rows[0]), x + right, y + int(rows[-1]) + 1, [label]))
    return found


def _ends(row: list[_Upright], uprights: list[_Upright], params: SegmentParams) -> list[_Upright]:
    """``row`` with the sides found beyond its first and its last, one to four cells on (the sides
    between too pale to be found), again and again, where the row's rows overlap theirs by half and
    they reach its top or its bottom: the outer sides of a field cut short by the crop, or by a digit
    touching them, and a field's first boxes where its sides are broken (a 1 written after the field
    stands clear of both its top and its bottom)."""
    cell = min(b.centre - a.centre for a, b in zip(row, row[1:]))
    top, bottom = _span(row)
    reach = params.cell_even * cell
    line = _Row(row)
    for end, step in ((0, -1), (-1, 1)):
        while True:
            near = [u for k in range(1, 5) for u in uprights
                    if abs(u.centre - (row[end].centre + step * k * cell)) <= reach
                    and all(u is not v for v in row) and _beside(u, line, 0.5)
                    and min(abs(u.y - top), abs(u.y2 - bottom)) <= reach]
            if not near:
                break
            row = [near[0]] + row if step < 0 else row + [near[0]]
    return row


def _joined(uprights: list[_Upright], reach: float) -> list[_Upright]:
    """``uprights`` with the pieces of one line joined: one above another in the same columns (a pixel
    either way), at most ``reach`` px apart. A side printed pale, or dotted, is opened into pieces."""
    out: list[_Upright] = []
    by_column: dict[int, list[_Upright]] = {}  # each line under every column it covers: a page stays quick
    for u in sorted(uprights, key=lambda u: u.y):
        above = {id(o): o for x in range(u.x, u.x2 + 1) for o in by_column.get(x, ())}.values()
        o = next((o for o in above if u.y - o.y2 <= reach), None)
        if o is None:
            o = _Upright(u.x, u.y, u.x2, u.y2, list(u.labels))
            out.append(o)
        else:
            o.x, o.x2, o.y2, o.labels = min(o.x, u.x), max(o.x2, u.x2), max(o.y2, u.y2), o.labels + u.labels
        for x in range(o.x, o.x2 + 1):
            column = by_column.setdefault(x, [])
            if all(p is not o for p in column):
                column.append(o)
    return out


def _span(row: list[_Upright]) -> tuple[float, float]:
    """The rows ``row``'s uprights stand in: their median top and median bottom."""
    return float(np.median([u.y for u in row])), float(np.median([u.y2 for u in row]))


def _with_peers(uprights: list[_Upright], params: SegmentParams) -> list[_Upright]:
    """The uprights that ``cell_count`` - 1 others overlap in rows (by ``cell_overlap`` of the taller):
    only they can stand in a row of cells. On a photo of a few digits none is left, and finding rows
    costs nothing (a page of thousands of strokes is left to :func:`_rows` whole)."""
    if len(uprights) > 2000:
        return uprights
    tops = np.array([u.y for u in uprights], np.float32)
    bottoms = np.array([u.y2 for u in uprights], np.float32)
    overlap = np.minimum(bottoms[:, None], bottoms[None]) - np.maximum(tops[:, None], tops[None])
    taller = np.maximum((bottoms - tops)[:, None], (bottoms - tops)[None])
    peers = (overlap >= params.cell_overlap * taller).sum(axis=1)
    return [u for u, n in zip(uprights, peers) if n >= params.cell_count]


class _Row:
    """A row of uprights being followed: its members, the smallest gap between them (a cell's width),
    and the rows spanned by its last three (median top and bottom)."""

    def __init__(self, members: list[_Upright]) -> None:
        self.members = members
        gaps = [b.centre - a.centre for a, b in zip(members, members[1:])]
        self.cell = min(gaps) if gaps else 0.0
        last = members[-3:]
        self.top = sorted(v.y for v in last)[(len(last) - 1) // 2]
        self.bottom = sorted(v.y2 for v in last)[len(last) // 2]

    def with_side(self, u: _Upright) -> _Row:
        return _Row(self.members + [u])


def _rows(uprights: list[_Upright], digit_px: float, params: SegmentParams) -> list[list[_Upright]]:
    """The uprights in rows of ``cell_count`` or more, left to right at a cell's width (``cell_gap``
    digit heights; a side or two may be missing, :func:`_next`), each beside the last ones in rows
    (:func:`_beside`: a row photographed at a slant stays one row, a pale side broken short too). A
    digit's stroke between two sides does not end the row; rows sharing an upright keep the longest.
    Rows are kept in bands by their height on the page, so a page of many lines stays quick."""
    low, high = (g * digit_px for g in params.cell_gap)
    band = max(4.0, digit_px / 2)
    bands: dict[int, list[_Row]] = {}
    done: list[_Row] = []
    for u in sorted(uprights, key=lambda u: u.centre):
        centre = (u.y + u.y2) / 2
        near = int(np.ceil(0.45 * u.h / band)) + 1
        grown = []
        for key in range(int(centre // band) - near, int(centre // band) + near + 1):
            kept = []
            for row in bands.get(key, ()):
                # A row whose next side would lie beyond three cells, or beyond a cell's widest, is done.
                if u.centre - row.members[-1].centre > (3.5 * row.cell if row.cell else high):
                    done.append(row)
                    continue
                kept.append(row)
                if not _beside(u, row, params.cell_overlap):
                    continue
                if not row.cell and low <= u.centre - row.members[0].centre <= high:
                    grown.append(row.with_side(u))  # a second side: the cell's width is a guess, keep both
                elif row.cell and _next(row, u, params.cell_even):
                    grown.append(row.with_side(u))
                    kept.pop()
            if key in bands:
                bands[key] = kept
        for row in grown + [_Row([u])]:
            bands.setdefault(int(((row.top + row.bottom) / 2) // band), []).append(row)
    candidates = done + [row for rows in bands.values() for row in rows]
    whole = [r.members for r in candidates
             if len(r.members) >= params.cell_count and _even(r.members, params.cell_even)]
    rows, used = [], set()
    for r in sorted(whole, key=len, reverse=True):
        if not used & {id(u) for u in r}:
            rows.append(r)
            used |= {id(u) for u in r}
    return rows


def _beside(u: _Upright, row: _Row, overlap: float) -> bool:
    """Whether ``u`` stands in ``row``: its rows overlap those of the row's last uprights (the median
    top to the median bottom) by ``overlap`` of the taller."""
    return min(u.y2, row.bottom) - max(u.y, row.top) >= overlap * max(u.h, row.bottom - row.top)


def _next(row: _Row, u: _Upright, spread: float) -> bool:
    """Whether ``u`` is ``row``'s next side: one, two or three of its cells on from its last (a side
    lost to a digit written across it, or too pale), within ``spread`` of a cell."""
    cells = (u.centre - row.members[-1].centre) / row.cell
    return round(cells) in (1, 2, 3) and abs(cells - round(cells)) <= spread


def _even(row: list[_Upright], spread: float) -> bool:
    """Whether the gaps between ``row``'s uprights are alike: each within ``spread`` of their median,
    or of twice or three times it (sides lost to digits written across them), and most of them one cell."""
    gaps = np.diff([u.centre for u in row])
    cell = float(np.median(gaps))
    single = sum(abs(g - cell) <= spread * cell for g in gaps)
    multiples = all(min(abs(g - k * cell) for k in (1, 2, 3)) <= spread * cell for g in gaps)
    return 2 * single >= len(gaps) and multiples


def _holds_digits(row: list[_Upright], mask: np.ndarray, rules: np.ndarray | None, digit_px: float,
                  params: SegmentParams) -> bool:
    """Whether ``row``'s cells hold digits its uprights are not.

    The cells' ink: in one cell or more (a form's field is seldom filled to its end), touching their
    sides once a cell or less on average, ``cell_content`` of the page's digit height or taller
    (between a printed label's evenly spaced stems, n, u, m, stand letters smaller than the
    handwritten digits beside them). The uprights: either ``cell_taller`` times as tall as that ink,
    ``cell_side`` digit heights or more, reaching above and below it and ``cell_margin`` of their
    height below it in the median cell (a box's sides); or standing on a horizontal rule (in
    ``rules``), ``cell_tick`` of its height or less, with its foot among them (a comb's ticks); or,
    in a row the frame cut (half its sides run to the image's top or bottom edge), ``cell_cut_taller``
    times as tall as the ink and around it. Pale sides broken short count at the row's height, its
    upper quartile."""
    side_h = float(np.percentile([u.h for u in row], 75))
    row_top, row_bottom = _span(row)
    slack = params.cell_align * digit_px
    reach = int(digit_px)
    spans, extents, touching = [], [], []
    for left, right in zip(row, row[1:]):
        top, bottom = min(left.y, right.y, row_top), max(left.y2, right.y2, row_bottom)
        rows = slice(max(0, int(top) - reach), int(bottom) + reach)
        # The digits reach into the sides' rows; a comb's short ticks, a digit's height above their feet.
        extent = _content(mask[rows, left.x2 : right.x], int(min(top, bottom - reach)) - rows.start,
                          int(bottom) - rows.start, params.cell_ink * digit_px * digit_px)
        if extent:
            spans.append((top, bottom))
            extents.append((rows.start + extent[0], rows.start + extent[1]))
            touching.append(extent[2])
    # Uprights that are digits' strokes (a row of 1s and 0s in a score card's cells) cut the digits
    # beside them: what lies between them touches both; a digit seldom touches its box's two sides.
    if not extents or sum(touching) > len(touching):
        return False
    content_h = float(np.median([b - t for t, b in extents]))
    if content_h < params.cell_content * digit_px:
        return False
    # A row cropped by the frame (most sides run to the image's top or bottom): how far its sides
    # reached is not seen, so they need only be ``cell_cut_taller`` times as tall as the digits.
    around = all(t >= top - slack and b <= bottom + slack for (top, bottom), (t, b) in zip(spans, extents))
    cut = 2 * sum(u.y <= 1 or u.y2 >= mask.shape[0] - 1 for u in row) >= len(row)
    if cut and side_h >= max(params.cell_cut_taller * content_h, params.cell_side * digit_px):
        return around
    if side_h >= max(params.cell_taller * content_h, params.cell_side * digit_px):
        # A printed word's letters stand on the line its stems end on; a digit seldom sits on its box.
        below = float(np.median([bottom - b for (_, bottom), (_, b) in zip(spans, extents)]))
        return below >= max(1.0, params.cell_margin * side_h) and around
    if rules is None or side_h > params.cell_tick * content_h or side_h < slack:
        return False
    on_rule = sum(bool(rules[u.y2 - int(slack) : u.y2 + int(slack) + 1, max(0, u.x - 2) : u.x2 + 2].any())
                  for u in row)
    return 2 * on_rule >= len(row) and all(top - reach / 2 <= b <= bottom + slack
                                           for (top, bottom), (_, b) in zip(spans, extents))


def _content(cell: np.ndarray, top: int, bottom: int, least: float) -> tuple[int, int, int] | None:
    """The rows (first, end) of the ink in ``cell`` that reaches into rows ``top``..``bottom`` (the
    next row of cells' digits, above or below, does not), and how many of the cell's two sides it
    touches (0, 1 or 2); or None where it is less than ``least`` px;
    rows inked across the cell, and specks under a fifth of its biggest piece, are left out (what is
    left of the cells' top and bottom lines, a dotted line's dots)."""
    if cell.size == 0 or not cell.any():
        return None
    # Rows inked nearly across the cell are what is left of the row's top or bottom line, not a digit.
    cell = cell * (cell.sum(axis=1, keepdims=True) < 0.7 * cell.shape[1])
    count, _, stats, _ = cv2.connectedComponentsWithStats(cell, connectivity=8)
    ys, hs, areas = stats[1:, cv2.CC_STAT_TOP], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    # Specks (a dotted line's dots, the scan's grain) are not what the cell holds.
    inside = (ys < bottom) & (ys + hs > top) & (areas >= max(4, 0.2 * areas.max()))
    if areas[inside].sum() < least:
        return None
    xs, ws = stats[1:, cv2.CC_STAT_LEFT][inside], stats[1:, cv2.CC_STAT_WIDTH][inside]
    touches = int((xs == 0).any()) + int((xs + ws == cell.shape[1]).any())
    return int(ys[inside].min()), int((ys + hs)[inside].max()), touches


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
