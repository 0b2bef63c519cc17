"""From ink to digit boxes: connected components, the page's digit height, broken digits joined, and
what is no digit's size or shape dropped.

>>> import numpy as np
>>> mask = np.zeros((60, 60), np.uint8); mask[10:50, 20:30] = 1; mask[5, 5] = 1
>>> labels, boxes = components(mask)
>>> [b.as_list() for b in boxes], typical_height(boxes)
([[20, 10, 10, 40]], 40.0)
"""

from __future__ import annotations

import cv2
import numpy as np

from .boxes import Box, member, percentile90
from .params import SEGMENT, SegmentParams


def components(mask: np.ndarray, *, params: SegmentParams = SEGMENT,
               found: tuple | None = None) -> tuple[np.ndarray, list[Box]]:
    """Connected components as boxes (8-connectivity), with tiny noise dropped; ``found``: ``mask``'s
    components as cv2.connectedComponentsWithStats gave them, where the caller has them already.

    >>> mask = np.zeros((30, 30), np.uint8); mask[5:25, 5:9] = 1; mask[5:25, 20:24] = 1
    >>> [b.x for b in components(mask)[1]]
    [5, 20]
    """
    count, labels, stats, _ = found or cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes = []
    min_area = max(params.min_area, mask.size // params.min_area_divisor)
    for i in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area) + 1:
        x, y, w, h, area = (int(v) for v in stats[i])
        boxes.append(Box(x, y, w, h, [int(i)], area))
    return labels, boxes


def drop_surround(labels: np.ndarray, boxes: list[Box], digit_h: float | None = None, *,
                  params: SegmentParams = SEGMENT) -> list[Box]:
    """Without the components that run along the image's edge and are far bigger than a digit: what
    lies around the page (a strip of the desk beside the sheet, the dark corner where a page was cut, a
    book's edge) is darker than the page and, where it is narrow, reads as ink. Such a component runs
    along ``surround_contact`` of the image's perimeter and is ``surround_extent`` digit heights long
    (``digit_h``; when it is not known yet, that of the other components); a digit photographed close
    may touch the edge too, but is no bigger than itself.

    >>> mask = np.zeros((100, 100), np.uint8); mask[:, :6] = 1; mask[30:50, 40:45] = 1  # a strip and a 1
    >>> labels, boxes = components(mask)
    >>> [b.x for b in drop_surround(labels, boxes)]
    [40]
    """
    if not boxes:
        return boxes
    rim = np.concatenate([labels[0], labels[-1], labels[1:-1, 0], labels[1:-1, -1]])
    contact = np.bincount(rim, minlength=int(labels.max()) + 1)
    touching = [sum(int(contact[label]) for label in b.labels) >= params.surround_contact * rim.size
                for b in boxes]
    if not any(touching):
        return boxes
    if digit_h is None:
        digit_h = typical_height([b for b, t in zip(boxes, touching) if not t], params=params)
    long = params.surround_extent * digit_h
    return [b for b, t in zip(boxes, touching) if not (t and max(b.w, b.h) > long)]


def height_boxes(labels: np.ndarray, boxes: list[Box], *, params: SegmentParams = SEGMENT) -> list[Box]:
    """The boxes a photo's digit height is probed on: no container, and nothing cut by the frame when
    enough lies clear of it.

    A box around ``container_holds`` or more other boxes, holding ``container_share`` of its own ink or
    more between them, is a grid, a table or ruled lines joined by a margin rule, not a digit: a
    sudoku's grid held three quarters of the ink of its photo, and its size was taken for the digits'.
    A box inked on ``container_max_fill`` of its area or more is not a container but the grain of a
    textured paper taken for ink round one big digit, and is measured as before.

    A component touching the image's edge is a strip of desk, a cut-off digit or a shadow; when
    ``clear_of_edge`` or more digit-sized boxes (a tenth of the biggest one's ink or more) lie clear of
    the edge and hold ``clear_share`` of the ink or more, only those are measured. A close-up of one
    digit touching the frame is still measured, as nothing else is digit-sized.

    >>> mask = np.zeros((100, 100), np.uint8); mask[5:95, 5:95] = 1; mask[6:94, 6:94] = 0   # a frame
    >>> for x in (20, 40, 60): mask[30:50, x:x + 4] = 1                                   # three 1s
    >>> labels, boxes = components(mask)
    >>> [b.x for b in height_boxes(labels, boxes)]
    [20, 40, 60]
    """
    def inside(inner: Box, outer: Box) -> bool:
        return outer.x <= inner.x and inner.x2 <= outer.x2 and outer.y <= inner.y and inner.y2 <= outer.y2

    def container(box: Box) -> bool:
        if box.area >= params.container_max_fill * box.w * box.h:
            return False  # mostly inked: the paper's grain or a blot, not lines round digits
        held = [o for o in boxes if o is not box and inside(o, box)]
        return (len(held) >= params.container_holds
                and sum(o.area for o in held) >= params.container_share * box.area)

    kept = [b for b in boxes if not container(b)]
    rim = np.zeros(int(labels.max()) + 1, bool)
    rim[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    clear = [b for b in kept if not any(rim[label] for label in b.labels)]
    if clear:
        biggest = max(b.area for b in clear)
        if (sum(b.area >= 0.1 * biggest for b in clear) >= params.clear_of_edge
                and sum(b.area for b in clear) >= params.clear_share * sum(b.area for b in kept)):
            return clear
    return kept


def typical_height(boxes: list[Box], *, params: SegmentParams = SEGMENT) -> float:
    """The height of a digit on this page: the ink-weighted median of the component heights.

    Weighting by ink keeps many specks (little ink each) from dragging the estimate down, while
    the digits, which carry most of the ink on a page of numbers, decide it.

    >>> typical_height([Box(0, 0, 10, 40, area=200), Box(20, 0, 3, 3, area=9), Box(30, 0, 3, 3, area=9)])
    40.0
    """
    # Ruled lines, margins and the grid they make are not digits, however much ink they hold: long
    # and thin, or a big box that is almost empty.
    boxes = [b for b in boxes if b.w <= params.height_max_aspect * b.h
             and b.h <= params.height_max_elongation * b.w and b.area >= params.height_min_fill * b.w * b.h]
    if not boxes:
        return 0.0
    order = sorted(boxes, key=lambda b: b.h)
    weights = np.cumsum([max(b.area, 1) for b in order])
    return float(order[int(np.searchsorted(weights, weights[-1] / 2))].h)


def frame_sides(boxes: list[Box], rules: np.ndarray, digit_h: float, *,
                params: SegmentParams = SEGMENT) -> list[Box]:
    """Drop the short sides of a frame whose long sides were rules: thin upright strokes that meet a
    horizontal rule, or the image's edge, at their top and at their bottom (a 1 standing on an
    underline meets one only). The image's edge counts when two or more other boxes are left: a crop of
    one row of a table or score card shows its cells' sides running from edge to edge, while a crop of
    a single 1 may touch both edges too.

    >>> rules = np.zeros((100, 100), np.uint8); rules[10, :] = rules[60, :] = 1
    >>> [b.x for b in frame_sides([Box(5, 10, 4, 50), Box(40, 15, 20, 40)], rules, 40.0)]
    [40]
    >>> row = [Box(2, 0, 3, 100), Box(20, 20, 20, 50), Box(50, 25, 20, 50), Box(80, 1, 3, 98)]
    >>> [b.x for b in frame_sides(row, np.zeros((100, 100), np.uint8), 50.0)]
    [20, 50]
    """
    near = max(2, int(params.frame_reach * digit_h))
    edges = len(boxes) >= 3

    def meets(box: Box, row: int) -> bool:
        if edges and (row < near or row > rules.shape[0] - 1 - near):
            return True
        band = rules[max(0, row - near) : row + near + 1, max(0, box.x - near) : box.x2 + near]
        return bool(band.any())

    if not rules.any() and not edges:
        return boxes
    sides = [b.w <= params.frame_side_aspect * b.h and meets(b, b.y) and meets(b, b.y2 - 1) for b in boxes]
    if edges and len(boxes) - sum(sides) < 2:
        return boxes  # a crop of one or two digits is not a table's row
    return [b for b, side in zip(boxes, sides) if not side]


def group_fragments(boxes: list[Box], digit_h: float, *, params: SegmentParams = SEGMENT) -> list[Box]:
    """Join clusters of small fragments into one box when together they are a digit's size.

    A faint or pencil digit can binarize into a handful of short pieces, none of them as tall as a
    digit (and each dropped as a speck); fragments shorter than ``fragment_height`` digit heights and
    closer to each other than ``fragment_gap`` are joined, and a cluster ``fragment_min`` to
    ``fragment_max`` digit heights tall (and not much wider than a digit) becomes one box. The
    classifier (its "not a digit" output) still decides whether it is a digit.

    >>> pieces = [Box(0, 0, 10, 15, area=50), Box(0, 17, 10, 15, area=50)]   # two halves of a stroke
    >>> [b.as_list() for b in group_fragments(pieces, 40.0)]
    [[0, 0, 10, 32]]
    """
    small = [b for b in boxes if b.h < params.fragment_height * digit_h]
    if len(small) < 2:
        return boxes
    joined, used = [], set()
    for members in _clusters(small, params.fragment_gap * digit_h):
        if len(members) < 2:
            continue
        union = members[0]
        for b in members[1:]:
            union = union.union(b)
        tallest = params.fragment_max * digit_h
        if params.fragment_min * digit_h <= union.h <= tallest and union.w <= tallest:
            joined.append(union)
            used.update(id(b) for b in members)
    return [b for b in boxes if id(b) not in used] + joined


def _clusters(small: list[Box], reach: float) -> list[list[Box]]:
    """``small`` in groups of boxes at most ``reach`` apart (one after another, union-find)."""
    parent = list(range(len(small)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(small)), key=lambda i: small[i].x)
    for a, i in enumerate(order):
        for j in order[a + 1 :]:
            if small[j].x - small[i].x2 > reach:
                break
            gap_y = max(small[i].y, small[j].y) - min(small[i].y2, small[j].y2)
            if gap_y <= reach:
                parent[root(j)] = root(i)
    clusters: dict[int, list[Box]] = {}
    for i, b in enumerate(small):
        clusters.setdefault(root(i), []).append(b)
    return list(clusters.values())


def merge_pieces(boxes: list[Box], digit_h: float, *, params: SegmentParams = SEGMENT) -> list[Box]:
    """Merge components that overlap in columns and nearly touch vertically (one broken digit).

    >>> bar, body = Box(10, 0, 20, 6), Box(8, 10, 22, 30)   # a 5's detached bar above its body
    >>> [b.as_list() for b in merge_pieces([bar, body], 40.0)]
    [[8, 0, 22, 40]]
    """
    boxes = sorted(boxes, key=lambda b: b.x)
    while (pair := _mergeable(boxes, digit_h, params)) is not None:
        i, j = pair
        boxes[i] = boxes[i].union(boxes[j])
        del boxes[j]
    return boxes


def _mergeable(boxes: list[Box], digit_h: float, params: SegmentParams) -> tuple[int, int] | None:
    """The first pair (i, j) of ``boxes`` (sorted by x) that is one broken digit, or None."""
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            if b.x > a.x2:
                break
            overlap = min(a.x2, b.x2) - max(a.x, b.x)
            gap = max(a.y, b.y) - min(a.y2, b.y2)
            if (overlap >= params.merge_overlap * min(a.w, b.w) and gap < params.merge_gap * digit_h
                    and a.union(b).h <= params.merge_height * digit_h):
                return i, j
    return None


def is_digit_like(box: Box, digit_h: float, *, params: SegmentParams = SEGMENT) -> bool:
    """False for specks, dots, dashes and ruled lines: things that are not a digit's size or shape.

    >>> is_digit_like(Box(0, 0, 20, 40), 40.0), is_digit_like(Box(0, 0, 4, 4), 40.0)
    (True, False)
    """
    if box.h < params.min_height_ratio * digit_h:
        return False
    if box.w > params.max_line_aspect * box.h:  # a ruled line or an underline
        return False
    if box.h > params.max_height_ratio * digit_h:  # a frame, a margin rule, a drawing: far taller than digits
        return False
    return True



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


def _darkness(ink: np.ndarray, labels: np.ndarray, box: Box) -> float:
    """The strength of ``box``'s strongest ink (90th percentile over its components)."""
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
    column of lines (:func:`_in_column`: a cell's side runs on above or below it). A thin, pale 1
    photographed small among bolder digits, or a fine-liner's or pencil's 1 among marker digits, stays;
    so does every box when the step is off (``hairline_ratio`` 0).

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
    typical_dark = float(np.median([_darkness(ink, labels, b) for b in others]))
    digit_h = float(np.median([b.h for b in others]))
    side = params.hairline_side * digit_h
    thin = [b for b, w, up in zip(boxes, widths, upright) if up and w < params.hairline_ratio * typical_width]

    def hairline(box: Box, width: float) -> bool:
        if width < params.hairline_faint * typical_width or box.x <= side or box.x2 >= labels.shape[1] - side:
            return True
        return (_darkness(ink, labels, box) < params.hairline_pale * typical_dark
                and _in_column(box, thin, upright_rules, labels.shape, params.hairline_reach * digit_h,
                               params.hairline_edge * digit_h))

    return [b for b, w in zip(boxes, widths) if any(b is t for t in thin) and hairline(b, w)]


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
