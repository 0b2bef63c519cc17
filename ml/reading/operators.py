"""The division slash and the brackets of a written sum, which the classifier reads as 1s (or 7s).

``56 / 7 × 9`` drawn or photographed reads ``56179``: a slash is one straight stroke, as a 1 is. Alone
it cannot be told from a 1 (MNIST's own test 1s lean up to 45°), so two things must hold together:
the box is one thin straight stroke leaning far to the right, more than handwritten 1s among digits
do (the real sets' 1s lean up to 26°, their slashes 32–47°), with a number on each side, and its
line holds another operator, a mark smaller than the digits that the classifier reads as *not a
digit* (a ``+`` or ``×``). An isolated digit, a number, a date or an amount has no such mark, so a
leaning 1 there stays a 1. A ``-`` is no such sign: dates and phone numbers have dashes (on
generated sheets, dates' leaning 1s were dropped when it counted). A bracket is a single curved
stroke taller than the digits beside it, whose middle bows away from the line between its ends; a 1
is straight and a 7 has a bar, which makes it thick.
"""

from __future__ import annotations

import numpy as np

from ml.models.config import DIGIT_CLASSES, NOT_A_DIGIT

from .boxes import Box, Segmentation, member
from .lines import line_height
from .params import READER, ReaderParams
from .split import doubtful


def lean(mask: np.ndarray) -> tuple[float, float]:
    """The lean of the ink in ``mask`` from upright in degrees (positive: its top to the right, as
    ``/``) and how thick it is for its length (the spread across its main axis over the spread
    along it: a straight pen stroke under 0.1, a digit's loop 0.3 or more).

    >>> stroke = np.zeros((40, 40), np.uint8)
    >>> for y in range(40):
    ...     stroke[y, 39 - y] = 1
    >>> [round(v, 2) for v in lean(stroke)]
    [45.0, 0.0]
    """
    ys, xs = np.nonzero(mask)
    if len(xs) < 3:
        return 0.0, 1.0
    values, vectors = np.linalg.eigh(np.cov(np.stack([xs, ys]).astype(np.float64)))
    dx, dy = vectors[:, 1]
    if dy < 0:
        dx, dy = -dx, -dy  # the axis pointing down the image
    angle = float(np.degrees(np.arctan2(-dx, dy)))  # down and to the left: top to the right
    return angle, float(np.sqrt(max(values[0], 0.0) / max(values[1], 1e-9)))


def bow(mask: np.ndarray) -> float:
    """How far the middle half of the stroke in ``mask`` lies beside the straight line between its
    ends, as a share of its height (the median over its rows; signed: negative to the left, as ``(``).

    >>> arc = np.zeros((40, 20), np.uint8)
    >>> for y in range(40):
    ...     arc[y, int(14 - 10 * np.sin(np.pi * y / 39))] = 1
    >>> round(bow(arc), 2), bow(np.eye(30, dtype=np.uint8))
    (-0.21, 0.0)
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) < 8:
        return 0.0
    centres = np.array([np.flatnonzero(mask[y]).mean() for y in rows])
    k = max(1, len(rows) // 10)
    y0, y1 = rows[:k].mean(), rows[-k:].mean()
    x0, x1 = centres[:k].mean(), centres[-k:].mean()
    chord = x0 + (rows - y0) / max(y1 - y0, 1.0) * (x1 - x0)
    n = len(rows)
    return float(np.median((centres - chord)[n // 4 : 3 * n // 4]) / mask.shape[0])


def operator_strokes(seg: Segmentation, line: list[Box], whole: list[np.ndarray], *,
                     params: ReaderParams = READER) -> set[int]:
    """The boxes of ``line`` (read whole as ``whole``) that are a sum's division slash or bracket
    rather than a 1 or a 7, or its operator signs: see the module's docstring.

    When the line holds an operator, a box read *not a digit* (``slash_operator`` or more) between
    ``operator_size`` of the line's height and ``operator_below`` of it: a box read as 1, not first
    or last, that leans ``slash_lean`` degrees or more and is at most ``slash_thick`` thick is a
    slash; a box read as 1 or 7 at least ``bracket_tall`` line heights tall, at most
    ``bracket_thick`` thick and bowed ``bracket_bow`` or more is a bracket (less bowed, see
    :func:`_paired`); the operator signs read *not a digit* at ``operator_sure`` or more and no more
    than ``operator_wide`` times as wide as tall are returned too, so they are never cut.

    >>> import cv2
    >>> labels = np.zeros((60, 220), np.int32)
    >>> _ = cv2.line(labels, (70, 55), (100, 5), 2, 2)                  # a stroke leaning 31°
    >>> line = [Box(10, 5, 30, 50, [1]), Box(66, 3, 38, 54, [2]), Box(120, 20, 20, 20, [3]),
    ...         Box(160, 5, 30, 50, [4])]
    >>> seg = Segmentation([line], np.zeros((60, 220), np.float32), labels)
    >>> read = lambda d: np.eye(11)[d] * 0.97 + 0.003                   # read as d at 0.97; 10: not a digit
    >>> operator_strokes(seg, line, [read(5), read(1), read(10), read(6)])      # a + or × beside it
    {1, 2}
    >>> operator_strokes(seg, line, [read(5), read(1), read(4), read(6)])       # a number: the 1 stays
    set()
    >>> star = line[:2] + [Box(120, 8, 44, 45, [3]), line[3]]            # an asterisk 0.9 line heights tall
    >>> operator_strokes(seg, star, [read(5), read(1), read(10), read(6)])
    {1, 2}
    """
    if len(line) < 3:
        return set()
    line_h = line_height(line)
    sure = _signs(line, whole, line_h, params)
    if sure is None:
        return set()
    shapes = {k: _shape(seg, box, params) for k, box in enumerate(line) if box.labels}
    digits = [k for k, p in enumerate(whole) if k in shapes and p[NOT_A_DIGIT] < params.slash_operator]
    read = {k: int(np.argmax(p[:DIGIT_CLASSES])) for k, p in enumerate(whole)}
    found, shallow = set(), {}
    for k, box in enumerate(line):
        if read[k] not in (1, 7) or k not in shapes:
            continue
        angle, thick, bowed = shapes[k]
        tall = box.h >= params.bracket_tall * line_h
        between = 0 < k < len(line) - 1  # a slash divides: it has a number on each side
        others = [shapes[j][0] for j in digits if j != k]
        slant = float(np.median(others)) if others else 0.0  # the other digits' lean
        leaning = angle >= params.slash_lean or (angle - slant >= params.slash_over
                                                 and box.h >= params.slash_tall * line_h)
        if read[k] == 1 and between and leaning and thick <= params.slash_thick:
            found.add(k)
        elif thick <= params.bracket_thick and tall and abs(bowed) >= params.bracket_bow:
            found.add(k)
        elif (thick <= params.bracket_thick and abs(bowed) >= params.bracket_bow_low
              and (tall or whole[k][NOT_A_DIGIT] >= params.bracket_reject)):
            shallow[k] = bowed
    strokes = {k for k, p in enumerate(whole) if read[k] in (1, 7) or doubtful(p, params=params)}
    return found | _paired(shallow, shapes, strokes, params) | sure


def _signs(line: list[Box], whole: list[np.ndarray], line_h: float, params: ReaderParams) -> set[int] | None:
    """None where ``line`` holds no operator sign (a box read *not a digit*, ``slash_operator`` or more,
    between ``operator_size`` and ``operator_below`` line heights); else the signs that are surely one:
    read so at ``operator_sure`` or more, no more than ``operator_wide`` times as wide as tall, beside
    two clear digits or more (a cheque's amount whose digits all touch reads *not a digit* box after
    box). Their strokes are no digits: they are never cut."""
    signs = [k for k, (b, p) in enumerate(zip(line, whole)) if p[NOT_A_DIGIT] >= params.slash_operator
             and params.operator_size * line_h <= max(b.w, b.h) and b.h <= params.operator_below * line_h]
    if not signs:
        return None
    if params.operator_sure > 1 or sum(not doubtful(p, params=params) for p in whole) < 2:
        return set()
    return {k for k in signs if whole[k][NOT_A_DIGIT] >= params.operator_sure
            and line[k].w <= params.operator_wide * line[k].h}


def _paired(shallow: dict[int, float], shapes: dict[int, tuple[float, float, float]], strokes: set[int],
            params: ReaderParams) -> set[int]:
    """The ``shallow`` brackets (index: signed bow) that face another thin stroke among ``strokes``
    (read as 1 or 7, or as no clear digit) bowed the other way, an opening one (bowed left, as ``(``)
    before it or a closing one after it: a pair encloses."""
    def faces(k: int, bowed: float) -> bool:
        return any(j != k and j in strokes and thick <= params.bracket_thick
                   and abs(other) >= params.bracket_bow_low and other * bowed < 0 and (j < k) == (other < 0)
                   for j, (_, thick, other) in shapes.items())
    return {k for k, bowed in shallow.items() if faces(k, bowed)}


def hooks(mask: np.ndarray, *, reach: float = 0.12, other: float = 0.05) -> int:
    """Whether the stroke in ``mask`` ends in hooks on one side at both ends, as a square bracket:
    +1 to the right (``[``), -1 to the left (``]``), 0 not. At each end (a fifth of its rows), a hook
    reaches ``reach`` of the stroke's height or more beside the upright just inside it (the median
    centre of the next fifth), while the end's ink stays within ``other`` of it on the other side (a
    1's base spreads both ways, its flag is at the top only).

    >>> bracket = np.zeros((40, 12), np.uint8)
    >>> bracket[:, 2] = 1; bracket[:2, 2:10] = 1; bracket[-2:, 2:10] = 1
    >>> hooks(bracket), hooks(bracket[:, ::-1]), hooks(bracket[:, :3])
    (1, -1, 0)
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) < 10:
        return 0
    n = len(rows)
    band = max(2, n // 5)
    sides = []
    for end, inner in ((rows[:band], rows[band : 2 * band]), (rows[-band:], rows[-2 * band : -band])):
        stem = float(np.median([np.flatnonzero(mask[y]).mean() for y in inner]))
        xs = np.flatnonzero(mask[end].any(axis=0))
        right, left = (xs.max() - stem) / n, (stem - xs.min()) / n
        sides.append(1 if right >= reach and left <= other else -1 if left >= reach and right <= other else 0)
    return sides[0] if sides[0] == sides[1] else 0


def _shape(seg: Segmentation, box: Box, params: ReaderParams) -> tuple[float, float, float]:
    """The lean and thickness (:func:`lean`) and the bow (:func:`bow`) of ``box``'s ink; a square
    bracket's (:func:`hooks`) bows ``bracket_bow_low`` the way a round one facing the same way does."""
    mask = member(seg.labels[box.y : box.y2, box.x : box.x2], box.labels)
    angle, thick = lean(mask)
    bowed = bow(mask)
    if abs(bowed) < params.bracket_bow_low:
        bowed = -hooks(mask, reach=params.bracket_hook) * params.bracket_bow_low or bowed
    return angle, thick, bowed
