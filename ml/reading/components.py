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

from .boxes import Box
from .cells import is_grid
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
    touching = [sum(int(contact[k]) for k in b.labels) >= params.surround_contact * rim.size for b in boxes]
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
    So is a grid whose digits touch its lines, making it one component (``cells.is_grid``), when it is
    ``grid_size`` times as tall and as wide as the median box or more.
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

    # A grid's cells are as big as the digits in them: only a box well bigger than most is looked at.
    big = params.grid_size * float(np.median([b.h for b in boxes])) if boxes else 0.0

    def container(box: Box) -> bool:
        if min(box.w, box.h) > big and is_grid(labels, box, params=params):
            return True
        if box.area >= params.container_max_fill * box.w * box.h:
            return False  # mostly inked: the paper's grain or a blot, not lines round digits
        held = [o for o in boxes if o is not box and inside(o, box)]
        return (len(held) >= params.container_holds
                and sum(o.area for o in held) >= params.container_share * box.area)

    kept = [b for b in boxes if not container(b)]
    rim = rim_labels(labels, params.rim_band)
    clear = [b for b in kept if rim.isdisjoint(b.labels)]
    biggest = max((b.area for b in clear), default=0)
    if (sum(b.area >= 0.1 * biggest for b in clear) >= params.clear_of_edge
            and sum(b.area for b in clear) >= params.clear_share * sum(b.area for b in kept)):
        return clear
    return kept


def rim_labels(labels: np.ndarray, band: float) -> set[int]:
    """The component labels of ``labels`` within ``band`` of the image's long side of its edge.

    >>> labels = np.zeros((100, 200), np.int32); labels[40:60, 1:10] = 1; labels[40:60, 90:99] = 2
    >>> rim_labels(labels, 0.01), rim_labels(labels, 0.0)
    ({1}, set())
    """
    k = max(1, int(round(band * max(labels.shape))))
    ring = [labels[:k], labels[-k:], labels[:, :k], labels[:, -k:]]
    return set(np.unique(np.concatenate([r.ravel() for r in ring])).tolist()) - {0}


def typical_height(boxes: list[Box], *, params: SegmentParams = SEGMENT, floor: float = 0.0) -> float:
    """The height of a digit on this page: the ink-weighted median of the component heights.

    Weighting by ink keeps many specks (little ink each) from dragging the estimate down, while
    the digits, which carry most of the ink on a page of numbers, decide it.

    Specks shorter than ``floor`` pixels (a dotted grid's dots, a ruled line's broken pieces: no digit
    is that small) are left out, however many there are; where nothing is taller, all count.

    >>> typical_height([Box(0, 0, 10, 40, area=200), Box(20, 0, 3, 3, area=9), Box(30, 0, 3, 3, area=9)])
    40.0
    >>> page = [Box(0, 0, 10, 40, area=200)] + [Box(3 * k, 50, 3, 3, area=9) for k in range(40)]  # 40 dots
    >>> typical_height(page), typical_height(page, floor=8)
    (3.0, 40.0)
    """
    # Ruled lines, margins and the grid they make are not digits, however much ink they hold: long
    # and thin, or a big box that is almost empty.
    boxes = [b for b in boxes if b.w <= params.height_max_aspect * b.h
             and b.h <= params.height_max_elongation * b.w and b.area >= params.height_min_fill * b.w * b.h]
    if not boxes:
        return 0.0
    boxes = [b for b in boxes if b.h >= floor] or boxes
    order = sorted(boxes, key=lambda b: b.h)
    weights = np.cumsum([max(b.area, 1) for b in order])
    return float(order[int(np.searchsorted(weights, weights[-1] / 2))].h)


def remove_frames(mask: np.ndarray, found: tuple, digit_px: float, *,
                  params: SegmentParams = SEGMENT) -> np.ndarray:
    """``mask`` without the drawn squares a digit is written in, one to a box (a form's mark boxes,
    a box drawn round each digit): a component at least ``frame_min`` digit heights on each side, at
    most ``frame_aspect`` times as wide as tall or as tall as wide, with ink along all four sides of
    its bounding box (``frame_cover`` of each side's length, within ``frame_band`` of the shorter side)
    and most of its ink there. Its sides are taken out; ink inside them stays (a digit touching its box).
    A square's sides are shorter than the rules ``ink.remove_rules`` takes out, so its two uprights read
    as 1s and the digit inside was lost with them. A written 0, however square, leaves its box's
    corners empty; ``found`` is ``mask``'s components as cv2.connectedComponentsWithStats gives them.

    >>> mask = np.zeros((80, 160), np.uint8)
    >>> _ = cv2.rectangle(mask, (10, 10), (70, 70), 1, 2); mask[25:55, 38:42] = 1     # a 1 in its box
    >>> _ = cv2.ellipse(mask, (120, 40), (28, 30), 0, 0, 360, 1, 3)                   # a 0 as big
    >>> out = remove_frames(mask, cv2.connectedComponentsWithStats(mask), 40.0)
    >>> int(out[10, 40]), int(out[40, 40]), int(out[40, 92])                          # box, 1, 0
    (0, 1, 1)
    """
    count, labels, stats, _ = found
    out = mask
    side = params.frame_min * digit_px
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if min(w, h) < side or max(w, h) > params.frame_aspect * min(w, h):
            continue
        own = labels[y : y + h, x : x + w] == i
        t = max(2, round(params.frame_band * min(w, h)))
        band = np.zeros_like(own)
        band[:t], band[-t:], band[:, :t], band[:, -t:] = True, True, True, True
        covered = (own[:t].any(axis=0).mean(), own[-t:].any(axis=0).mean(),
                   own[:, :t].any(axis=1).mean(), own[:, -t:].any(axis=1).mean())
        if min(covered) < params.frame_cover or (own & band).sum() < 0.5 * own.sum():
            continue
        out = out.copy() if out is mask else out
        out[y : y + h, x : x + w][own & band] = 0
    return out


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


def tall_digits(boxes: list[Box], digit_h: float, *, params: SegmentParams = SEGMENT) -> list[Box]:
    """The boxes of ``boxes`` too tall for :func:`is_digit_like` (over ``max_height_ratio`` digit
    heights) that are digits all the same: at most ``tall_max`` digit heights, shaped as a digit, with
    two or more others as tall (within ``tall_peer`` of its height), or standing alone among digits of
    the usual size (:func:`_lone_digit`). A form's printed label, its letters the most ink, sets the
    typical height; the number written after it, 2.4 times as tall, was dropped but for its smaller
    digits. A frame or a margin rule has no peers of its shape, and is too thin to stand alone.

    >>> letters = [Box(x, 40, 10, 20) for x in range(0, 200, 12)]          # "Student ID number:"
    >>> number = [Box(x, 10, 30, h) for x, h in ((220, 46), (260, 38), (300, 49))]
    >>> [b.x for b in tall_digits(letters + number, 20.0)]
    [220, 300]
    """
    lo, hi = params.max_height_ratio * digit_h, params.tall_max * digit_h
    tall = [b for b in boxes if lo < b.h <= hi and b.w <= params.tall_width * b.h]
    if not tall:
        return []

    def peers(box: Box) -> int:
        return sum(o is not box and abs(o.h - box.h) <= params.tall_peer * box.h
                   and o.w <= params.tall_width * o.h for o in boxes)

    usual = [b for b in boxes if is_digit_like(b, digit_h, params=params)]
    return [b for b in tall if peers(b) >= 2 or _lone_digit(b, usual, digit_h, params)]


def _lone_digit(box: Box, usual: list[Box], digit_h: float, params: SegmentParams) -> bool:
    """Whether a box too tall for :func:`is_digit_like`, with no peers as tall, stands in a line of
    ``usual`` digits as one of them (a long-stemmed 7 or 9, :func:`tall_digits`): wide enough for no
    rule, two of them standing in its height near it, one close beside it.

    >>> line = [Box(x, 40, 24, 40) for x in (0, 34, 68)]
    >>> seven, rule = Box(102, 20, 20, 100), Box(102, 20, 3, 100)
    >>> _lone_digit(seven, line, 40.0, SEGMENT), _lone_digit(rule, line, 40.0, SEGMENT)
    (True, False)
    >>> _lone_digit(Box(300, 20, 20, 100), line, 40.0, SEGMENT)            # far from the line
    False
    """
    if not params.tall_lone_beside or box.w < params.tall_lone_width * box.h:
        return False

    def gap(o: Box) -> float:
        return max(o.x - box.x2, box.x - o.x2, 0)

    reach = params.tall_lone_beside * digit_h
    beside = [o for o in usual if box.y <= o.y + o.h / 2 <= box.y2 and gap(o) <= reach]
    return len(beside) >= 2 and any(gap(o) <= params.tall_lone_near * digit_h for o in beside)


def small_digits(boxes: list[Box], digit_h: float, size: tuple[int, int], *,
                 params: SegmentParams = SEGMENT) -> list[Box]:
    """The boxes of ``boxes`` too short for :func:`is_digit_like` (under ``min_height_ratio`` digit
    heights) that are digits all the same: at least ``small_min`` digit heights, shaped as a digit
    (``small_width`` to ``tall_width`` of their height wide), two or more others as small (within
    ``tall_peer`` of its height), clear of the image's edge (``size``: width, height) and a digit of
    the usual size within ``small_reach`` digit heights. Tall 1s and 9s, long thin strokes, set the
    typical height (by ink) of a date written in thin pen; its 0s, a third as tall, were dropped as
    specks. A speck of dust or a comma is smaller, a grain of textured paper far from any digit, a
    table's sides broken by its rules thinner, and their stubs above its top rule are cut by the
    image's edge.

    >>> number = [Box(0, 0, 12, 60), Box(20, 30, 16, 18), Box(50, 0, 12, 60), Box(70, 28, 17, 20)]
    >>> [b.x for b in small_digits(number + [Box(100, 30, 16, 17)], 60.0, (500, 100))]
    [20, 70, 100]
    >>> small_digits(number + [Box(400, 30, 16, 17)], 60.0, (500, 100))      # no third one near a digit
    []
    """
    lo, hi = params.small_min * digit_h, params.min_height_ratio * digit_h
    usual = [b for b in boxes if hi <= b.h <= params.max_height_ratio * digit_h]
    reach = params.small_reach * digit_h

    def near(box: Box) -> bool:
        cx, cy = box.x + box.w / 2, box.y + box.h / 2
        return any(abs(u.x + u.w / 2 - cx) <= reach and abs(u.y + u.h / 2 - cy) <= reach for u in usual)

    small = [b for b in boxes if lo <= b.h < hi and params.small_width * b.h <= b.w <= params.tall_width * b.h
             and b.x > 0 and b.y > 0 and b.x2 < size[0] and b.y2 < size[1] and near(b)]
    return [b for b in small
            if sum(o is not b and abs(o.h - b.h) <= params.tall_peer * b.h for o in small) >= 2]


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
