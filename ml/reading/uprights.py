"""Thin uprights that are not 1s: what is left of a table's or a grid's printed cell lines, and the
pieces of a page's edge on a desk. Both read as confident 1s; both are told apart by what lies across
the stroke (how much ink, how dark) and beside it (the paper on its two sides).
"""

from __future__ import annotations

import cv2
import numpy as np

from .boxes import Box, member, percentile90
from .params import SEGMENT, SegmentParams


def ink_width(ink: np.ndarray, labels: np.ndarray, box: Box) -> float:
    """How much ink ``box``'s strokes lay across their path: the ink strength (``ink``, in [0, 1]) summed
    over its components and the pixel round them, over the length of their strokes. A
    pen stroke measures its width times its darkness; a printed hairline, thin and pale, far less,
    even where both binarize one or two pixels wide.

    >>> ink = np.zeros((40, 40), np.float32); ink[5:35, 8:12] = 0.8; ink[5:35, 30] = 0.3
    >>> labels = (ink > 0.1).astype(np.int32); labels[:, 30] *= 2          # a pen's 1, a hairline
    >>> [round(ink_width(ink, labels, box), 1) for box in (Box(8, 5, 4, 30, [1]), Box(30, 5, 1, 30, [2]))]
    [2.9, 0.3]
    """
    region = slice(max(0, box.y - 2), box.y2 + 2), slice(max(0, box.x - 2), box.x2 + 2)
    mask = member(labels[region], box.labels)
    total = float((ink[region] * cv2.dilate(mask, _SQUARE)).sum())
    return total / max(_stroke_length(mask), 1.0)


_SQUARE = np.ones((3, 3), np.uint8)


def darkness(ink: np.ndarray, labels: np.ndarray, box: Box) -> float:
    """The strength of ``box``'s strongest ink (90th percentile over its components).

    >>> ink = np.zeros((20, 20), np.float32); ink[2:18, 5:9] = 0.8; ink[2:18, 14] = 0.3
    >>> labels = (ink > 0).astype(np.int32); labels[:, 14] *= 2
    >>> pen, hairline = Box(5, 2, 4, 16, [1]), Box(14, 2, 1, 16, [2])
    >>> round(darkness(ink, labels, pen), 2), round(darkness(ink, labels, hairline), 2)
    (0.8, 0.3)
    """
    mask = member(labels[box.y : box.y2, box.x : box.x2], box.labels)
    return percentile90(ink[box.y : box.y2, box.x : box.x2][mask > 0]) if mask.any() else 0.0


def _stroke_length(mask: np.ndarray) -> float:
    """The length of ``mask``'s strokes in pixels: half its rim, which runs along both sides of every
    stroke, measured at twice the resolution so a one-pixel line has two sides as well."""
    fine = cv2.resize(mask, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    inner = cv2.erode(fine, _SQUARE, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return (int(fine.sum()) - int(inner.sum())) / 4


def hairlines(boxes: list[Box], ink: np.ndarray, labels: np.ndarray, upright_rules: np.ndarray | None = None,
              *, params: SegmentParams = SEGMENT) -> list[Box]:
    """The thin uprights among ``boxes`` drawn with a far finer line than the digits around them: what
    is left of a table's or a grid's cell lines, or of a page's edge (printed hairlines, bowed or
    broken, so not removed as rules), which read as confident 1s. Against the median of the other
    boxes (two or more: a page of 1s alone has none), an upright (at most ``frame_side_aspect`` as wide
    as tall) is one when its :func:`ink_width` is under ``hairline_faint`` of theirs; or under
    ``hairline_ratio`` and it stands at the image's left or right side (within ``hairline_side``
    digit heights), or is paler (its strongest ink under ``hairline_pale`` of theirs) and in a
    column of lines (:func:`_in_column`: another piece in its columns, the image's top or bottom
    within ``hairline_edge`` digit heights, or an upright rule running on for ``hairline_reach``). A
    thin, pale 1 photographed small among bolder digits, or a fine-liner's or pencil's 1 among marker
    digits, stays; so does every box when the step is off (``hairline_ratio`` 0).

    >>> ink = np.zeros((60, 140), np.float32)
    >>> ink[10:50, 10:34] = ink[10:50, 50:74] = 0.7; ink[18:42, 18:26] = ink[18:42, 58:66] = 0  # two 0s
    >>> ink[5:25, 90] = ink[30:55, 90] = 0.3; ink[10:50, 104:108] = 0.7   # a cell's line, broken; a 1
    >>> labels = np.zeros(ink.shape, np.int32)
    >>> for label, x in enumerate((10, 50, 90, 104), 1): labels[:, x : x + 24][ink[:, x : x + 24] > 0] = label
    >>> labels[30:55, 90] = 5
    >>> boxes = [Box(10, 10, 24, 40, [1]), Box(50, 10, 24, 40, [2]), Box(90, 5, 1, 20, [3]),
    ...          Box(90, 30, 1, 25, [5]), Box(104, 10, 4, 40, [4])]
    >>> [(b.x, b.y) for b in hairlines(boxes, ink, labels)]
    [(90, 5), (90, 30)]
    """
    upright = [b.w <= params.frame_side_aspect * b.h for b in boxes]
    if params.hairline_ratio <= 0 or sum(not up for up in upright) < 2 or not any(upright):
        return []
    widths = [ink_width(ink, labels, b) if up else 0.0 for b, up in zip(boxes, upright)]
    others = [b for b, up in zip(boxes, upright) if not up]
    typical_width = float(np.median([ink_width(ink, labels, b) for b in others]))
    typical_dark = float(np.median([darkness(ink, labels, b) for b in others]))
    digit_h = float(np.median([b.h for b in others]))
    side = params.hairline_side * digit_h
    limit = params.hairline_ratio * typical_width
    thin = [(b, w) for b, w, up in zip(boxes, widths, upright) if up and w < limit]

    def hairline(box: Box, width: float) -> bool:
        if width < params.hairline_faint * typical_width or box.x <= side or box.x2 >= labels.shape[1] - side:
            return True
        return (darkness(ink, labels, box) < params.hairline_pale * typical_dark
                and _in_column(box, [t for t, _ in thin], upright_rules, labels.shape,
                               params.hairline_reach * digit_h, params.hairline_edge * digit_h))

    return [b for b, w in thin if hairline(b, w)]


def _in_column(box: Box, thin: list[Box], upright_rules: np.ndarray | None, shape: tuple[int, ...],
               reach: float, edge: float) -> bool:
    """Whether the upright ``box`` is a piece of a longer line: another thin upright in its columns
    above or below it, the image's top or bottom edge within ``edge`` px (a row cut out of a table),
    or an upright rule (in ``upright_rules``) running on from its top or its bottom for ``reach`` px."""
    if box.y <= edge or box.y2 >= shape[0] - edge:
        return True
    if any(t is not box and t.x <= box.x2 + 2 and box.x <= t.x2 + 2 and (t.y2 <= box.y or t.y >= box.y2)
           for t in thin):
        return True
    if upright_rules is None:
        return False
    band = upright_rules[:, max(0, box.x - 2) : box.x2 + 2].any(axis=1)
    n = max(1, int(reach))
    above, below = band[max(0, box.y - n) : box.y], band[box.y2 : box.y2 + n]
    return bool(above.sum() >= 0.8 * n or below.sum() >= 0.8 * n)


def edge_pieces(boxes: list[Box], gray: np.ndarray, ink: np.ndarray, *,
                params: SegmentParams = SEGMENT) -> list[Box]:
    """The uprights among ``boxes`` that are pieces of the paper's edge, not strokes: a thin box (at
    most ``frame_side_aspect`` as wide as tall) with unlike paper on its two sides, the grey just left
    of it and just right of it (medians over its rows, ``edge_band`` of its height wide, of the pixels
    that are no ink: a neighbouring digit's strokes do not count) differing by ``edge_piece_step`` of
    the brighter (light falling off across a photo differs less), and the box itself no darker than
    ``edge_core`` of the darker side (a pen stroke across a shadow's edge is far darker than both). A
    page's edge on a desk broken by its shadow into pieces a digit long, each too short for
    ``ink.remove_edges``, read as a column of 1s; a 1 has the same paper on both sides.

    >>> gray = np.full((100, 200), 225, np.uint8); gray[:, :60] = 140          # a page, the desk left of it
    >>> gray[20:60, 58:62] = 90; gray[20:60, 120:124] = 40; gray[20:60, 126:140] = 40   # its edge; a 1, a 0
    >>> ink = np.zeros(gray.shape, np.float32)
    >>> ink[20:60, 58:62] = ink[20:60, 120:124] = ink[20:60, 126:140] = 0.8
    >>> [b.x for b in edge_pieces([Box(58, 20, 4, 40), Box(120, 20, 4, 40)], gray, ink)]
    [58]
    """
    found = []
    w = gray.shape[1]
    for box in boxes:
        if box.w > params.frame_side_aspect * box.h:
            continue
        band = max(3, int(params.edge_band * box.h))
        rows = slice(box.y, box.y2)
        sides = []
        for cols in (slice(max(0, box.x - band), box.x), slice(box.x2, min(w, box.x2 + band))):
            paper = gray[rows, cols][ink[rows, cols] < params.min_contrast]
            if paper.size < 0.3 * band * box.h:
                break
            sides.append(float(np.median(paper)))
        if len(sides) != 2 or abs(sides[0] - sides[1]) < params.edge_piece_step * max(sides):
            continue
        # A stroke is darker than the paper on both sides; an edge, or its shadow, as dark as the desk.
        if np.percentile(gray[rows, box.x : box.x2], 10) >= params.edge_core * min(sides):
            found.append(box)
    return found


def frame_pieces(boxes: list[Box], ink: np.ndarray, labels: np.ndarray, *,
                 params: SegmentParams = SEGMENT) -> list[Box]:
    """The boxes at the image's frame that are what lies beyond the page, not digits: touching the
    frame, their ink (its 90th percentile over their own pixels) under ``frame_faint`` of that of the
    boxes clear of it (the median over at least ``frame_peers`` of them). A desk's grain, or the corner
    where the sheet ends, broken into pieces at the frame read as 8s and 1s (0.29-0.52 where the
    digits' ink was 0.65-0.81); a digit cut by the frame is as dark as the others.

    >>> ink = np.zeros((60, 200), np.float32); labels = np.zeros((60, 200), np.int32)
    >>> boxes = [Box(20 + 40 * k, 10, 10, 40, [k + 1]) for k in range(4)] + [Box(190, 5, 10, 40, [5])]
    >>> for k, b in enumerate(boxes):
    ...     ink[b.y : b.y2, b.x : b.x2] = 0.25 if k == 4 else 0.8; labels[b.y : b.y2, b.x : b.x2] = k + 1
    >>> [b.x for b in frame_pieces(boxes, ink, labels)]
    [190]
    """
    h, w = ink.shape
    at_frame = [b.x <= 0 or b.y <= 0 or b.x2 >= w or b.y2 >= h for b in boxes]
    clear = [darkness(ink, labels, b) for b, edge in zip(boxes, at_frame) if not edge]
    if len(clear) < params.frame_peers:
        return []
    floor = params.frame_faint * float(np.median(clear))
    return [b for b, edge in zip(boxes, at_frame) if edge and darkness(ink, labels, b) < floor]


def rule_residue(boxes: list[Box], rules: np.ndarray | None, labels: np.ndarray, digit_h: float, *,
                 params: SegmentParams = SEGMENT) -> list[Box]:
    """The boxes of ``boxes`` that are what rule removal left of the rules (``rules``: the mask of
    rules removed, ``ink.remove_rules``): under ``residue_left`` of their ink farther than
    ``residue_near`` digit heights from one. A grid drawn bolder than its digits (a sudoku photographed
    by a webcam, a score card) leaves stubs where its lines cross, bow or thicken, each read as a 1 or
    a 7, and the stubs on its lines break its rows apart. A digit a ruled line crosses keeps its strokes
    above and below the line; one written in a cell keeps clear of the cell's sides. A box near more
    than ``residue_rules`` separate rules is not a stub: a cheque's security pattern, whose short
    straight lines run through its digits, leaves them near a rule everywhere.

    >>> rules = np.zeros((100, 200), np.uint8); rules[48:52, :] = 1; rules[:, 98:102] = 1   # a grid
    >>> labels = np.zeros((100, 200), np.int32)
    >>> labels[40:60, 96:104] = 1; labels[20:80, 30:36] = 2              # a stub; a 1 across the rule
    >>> [b.x for b in rule_residue([Box(96, 40, 8, 20, [1]), Box(30, 20, 6, 60, [2])], rules, labels, 40.0)]
    [96]
    >>> rules[:, :] = 0; rules[38:100:8, 90:110] = 1                         # a pattern's short lines
    >>> rule_residue([Box(96, 40, 8, 20, [1])], rules, labels, 40.0)
    []
    """
    if rules is None or not params.residue_left or not rules.any():
        return []
    reach = max(1, int(round(params.residue_near * digit_h)))
    ruled = (rules > 0).view(np.uint8)
    near = cv2.dilate(ruled, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    pieces = None
    found = []
    for b in boxes:
        if not b.labels:
            continue
        mask = member(labels[b.y : b.y2, b.x : b.x2], b.labels)
        far = int(cv2.countNonZero(mask & (1 - near[b.y : b.y2, b.x : b.x2])))
        if far >= params.residue_left * max(int(cv2.countNonZero(mask)), 1):
            continue
        if pieces is None:
            pieces = cv2.connectedComponents(ruled, connectivity=8)[1]
        around = pieces[max(0, b.y - reach) : b.y2 + reach, max(0, b.x - reach) : b.x2 + reach]
        if len(np.unique(around)) - 1 <= params.residue_rules:
            found.append(b)
    return found


def rule_run_on(boxes: list[Box], rules: np.ndarray | None, labels: np.ndarray, digit_h: float, *,
                params: SegmentParams = SEGMENT) -> list[Box]:
    """The upright boxes of ``boxes`` that an upright rule removed (``rules >> 1``, see
    ``ink.remove_rules``) runs on from: from the columns where their ink ends at their top (or bottom),
    the rule goes on within their columns for ``run_on_reach`` digit heights. They are a line's pieces
    the rule removal left where the line bends (a sudoku's box lines drawn by hand, read as tall 1s at
    the top of the grid). The rule must be ``rule_length`` digit heights long itself (in a strip as
    tall as its digits, a cheque's amount, a digit's stem counts as an upright rule), and the box
    ``run_on_tall`` digit heights tall or more: a digit written against a cell's side is a digit tall.

    >>> rules = np.zeros((200, 100), np.uint8); rules[80:200, 50:53] = 2    # an upright rule from y 80
    >>> labels = np.zeros((200, 100), np.int32); labels[5:80, 50:53] = 1; labels[5:80, 53] = 1   # its top
    >>> labels[40:80, 56:60] = 2; labels[20:79, 20:26] = 3           # a 1 beside the rule; another apart
    >>> boxes = [Box(50, 5, 4, 75, [1]), Box(56, 40, 4, 40, [2]), Box(20, 20, 6, 59, [3])]
    >>> [b.x for b in rule_run_on(boxes, rules, labels, 40.0)], rule_run_on(boxes, rules, labels, 49.0)
    ([50], [])
    """
    if rules is None or not params.run_on_reach or not rules.any():
        return []
    upright = (rules >> 1).view(np.uint8)
    reach = max(2, int(round(params.run_on_reach * digit_h)))
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(upright, connectivity=8)
    long = np.zeros(count, bool)
    long[1:] = stats[1:, cv2.CC_STAT_HEIGHT] >= params.rule_length * digit_h

    def runs_on(window: np.ndarray, ends: np.ndarray) -> bool:
        """``window``: the rule's pieces beyond the box's end, the row next to it first."""
        if window.shape[0] < reach or not ends.any():
            return False
        widened = cv2.dilate(ends.astype(np.uint8)[None], np.ones((1, 3), np.uint8))[0] > 0
        if not (widened & (window[0] > 0)).any():
            return False
        return int((window > 0).any(axis=1).sum()) >= reach - 1 and bool(long[window].any())

    found = []
    for b in boxes:
        if b.w > params.run_on_aspect * b.h or b.h < params.run_on_tall * digit_h or not b.labels:
            continue
        own = member(labels[b.y : b.y2, b.x : b.x2], b.labels) > 0
        rows = np.flatnonzero(own.any(axis=1))
        if not rows.size:
            continue
        top, bottom = own[rows[0] : rows[0] + 2].any(axis=0), own[rows[-1] - 1 : rows[-1] + 1].any(axis=0)
        above = pieces[max(0, b.y + rows[0] - reach) : b.y + rows[0], b.x : b.x2][::-1]
        below = pieces[b.y + rows[-1] + 1 : b.y + rows[-1] + 1 + reach, b.x : b.x2]
        if runs_on(above, top) or runs_on(below, bottom):
            found.append(b)
    return found
