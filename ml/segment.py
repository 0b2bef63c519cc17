"""An image → lines of digit boxes in reading order, plus the crop of each digit's ink.

Pipeline (each step is a function, so tests and the reading benchmark can look at each):

0. ``work_scale``: a probe finds the digits' height; big photos are shrunk so digits are about
   ``WORK_HEIGHT`` px tall.
1. ``ink_map``: grey levels → ink strength in [0, 1], relative to the paper estimated by a
   morphological closing wider than any stroke (so uneven light, shadows and tinted paper drop
   out), with the page's light continued past the image edge so a dim border is not ink;
   ``remove_rules`` then subtracts straight ink much longer than a digit (ruled lines, a margin
   rule, the long sides of a printed box; ``frame_sides`` drops the short ones).
2. ``binarize``: a global threshold on the ink map (Otsu, clamped so a blank page stays blank),
   with hysteresis so pale stretches joined to firm strokes count.
3. ``components``: connected components, specks and ruled lines removed by size relative to the
   typical digit height on the page.
4. ``merge_pieces``: pieces of one broken digit (a 5's detached bar) merge when they share columns.
5. ``group_lines``: boxes grouped into lines by vertical overlap, lines top to bottom, digits left
   to right.
6. ``cut_pieces``: a box wide enough to hold touching digits is over-segmented at its thinnest
   columns; ``ml.reading`` then lets the classifier decide which runs of pieces (and of neighbouring
   boxes) are single digits.
7. ``Segmentation.crop``: a box's own ink, neighbours masked out, faint ink joined to it taken in.

>>> import numpy as np, cv2
>>> page = np.full((80, 160), 255, np.uint8)
>>> _ = cv2.rectangle(page, (20, 20), (30, 60), 0, -1); _ = cv2.rectangle(page, (90, 20), (110, 60), 0, -1)
>>> [[b.x for b in line] for line in segment(page).lines]
[[20, 90]]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

# Ink darker than the paper by less than this fraction of the paper's brightness is never ink:
# it keeps JPEG noise and paper texture of a blank page from becoming "digits".
MIN_CONTRAST = 0.18
# Images are segmented at a scale where digits are about WORK_HEIGHT px tall, found by a probe of
# the image shrunk to PROBE_SIDE px.
WORK_HEIGHT = 40
PAPER_KERNEL = 1.5
PAPER_SIDE = 80
PROBE_SIDE = 480
# Components taller than this many typical digit heights are frames and rules, not digits.
MAX_HEIGHT_RATIO = 2.2
# With hysteresis, ink down to this share of the threshold joins firm ink up to REACH pixels away.
HYSTERESIS = 0.6
REACH = 4
# Components shorter than this share of the page's typical digit height are specks, dots or commas.
MIN_HEIGHT_RATIO = 0.4
# A box at least this many digit heights wide may hold touching digits and gets cut candidates.
SPLIT_ASPECT = 0.45
# No cut piece is narrower than this share of a digit height (0.15 measured 0.12 points of digits
# worse on photo pages: the right cut between touching digits can be that close to another).
MIN_PIECE = 0.12
# The typical width of a handwritten digit, in digit heights.
DIGIT_WIDTH = 0.6
# At most MAX_CUTS cuts per box, or CUTS_PER_DIGIT per digit width it spans if that is more: in three
# touching digits the minima inside a 0's loop used to take all four cuts.
MAX_CUTS = 4
CUTS_PER_DIGIT = 3.0
# A digit's crop takes in the fainter ink joined to it in its box, down to CROP_FAINT of its stroke
# strength (Steps.faint).
CROP_FAINT = 0.2
# Straight ink this many work digit heights long is a rule, not a stroke.
RULE_LENGTH = 2.5
# Fragments shorter than FRAGMENT_HEIGHT digit heights and at most FRAGMENT_GAP apart cluster into
# one box when the cluster is at least FRAGMENT_MIN digit heights tall.
FRAGMENT_HEIGHT = 0.6
FRAGMENT_GAP = 0.2
FRAGMENT_MIN = 0.6


@dataclass
class Box:
    """A digit's box in image pixels and the component labels that make up its ink."""

    x: int
    y: int
    w: int
    h: int
    labels: list[int] = field(default_factory=list)
    area: int = 0  # ink pixels
    # When the box is wide enough to hold touching digits: the pieces it would split into. Whether to
    # split is decided by the classifier (ml.reading), which sees both readings.
    pieces: list[Box] = field(default_factory=list)

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        labels = self.labels + [label for label in other.labels if label not in self.labels]
        return Box(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y, labels,
                   self.area + other.area)

    def as_list(self) -> list[int]:
        return [int(self.x), int(self.y), int(self.w), int(self.h)]


@dataclass
class Segmentation:
    lines: list[list[Box]]
    ink: np.ndarray  # float32 ink strength in [0, 1] at the work resolution
    labels: np.ndarray  # int32 component label per pixel (0 = background), at the work resolution
    # Work resolution / image resolution: boxes are in work pixels; image_box converts them.
    scale: float = 1.0
    # Whether crops take in the faint ink joined to a digit (Steps.faint).
    faint: bool = True

    def image_box(self, box: Box) -> list[int]:
        """``box`` as [x, y, w, h] in the pixels of the image that was segmented."""
        if self.scale == 1.0:
            return box.as_list()
        x0, y0 = int(box.x / self.scale), int(box.y / self.scale)
        x1, y1 = int(np.ceil(box.x2 / self.scale)), int(np.ceil(box.y2 / self.scale))
        return [x0, y0, x1 - x0, y1 - y0]

    def box_at(self, image_box: list[int]) -> Box:
        """The box at ``image_box`` (image pixels, as a Reading reports it) with the components
        that have ink inside it, for cropping a digit that was read earlier."""
        x, y, w, h = (int(round(v * self.scale)) for v in image_box)
        region = self.labels[y : y + max(h, 1), x : x + max(w, 1)]
        found, counts = np.unique(region[region > 0], return_counts=True)
        keep = [int(label) for label, n in zip(found, counts) if n >= 0.2 * counts.max()]
        return Box(x, y, max(w, 1), max(h, 1), keep, int(counts.sum()) if len(counts) else 0)

    @property
    def boxes(self) -> list[Box]:
        return [b for line in self.lines for b in line]

    def crop(self, box: Box) -> np.ndarray:
        """The ink of ``box`` only (neighbours' strokes that reach into it are masked out)."""
        ink = self.ink[box.y : box.y2, box.x : box.x2]
        if not box.labels:
            return stretch(ink)
        labels = self.labels[box.y : box.y2, box.x : box.x2]
        mask = member(labels, box.labels)
        if self.faint and mask.any():
            # Recover the faint stretches of the digit's own strokes that binarizing lost (a pencil
            # 0 whose pale side fell below the page's threshold reads as a 6 without it): add the
            # ink of at least CROP_FAINT of the digit's own stroke strength that connects to it
            # inside the box, keeping away from the other components there. (Looking beyond the
            # box as well measured no better on photo pages and worse on ruled sheets.)
            core = percentile90(ink[mask > 0])
            weak = (ink > max(CROP_FAINT * core, MIN_CONTRAST * 0.5)).view(np.uint8)
            others = ((labels > 0) & (mask == 0)).view(np.uint8)
            near_others = cv2.dilate(others, np.ones((5, 5), np.uint8))
            weak = cv2.bitwise_or(cv2.bitwise_and(weak, 1 - near_others), mask)
            _, parts = cv2.connectedComponents(weak, connectivity=8)
            mask = member(parts, parts[mask > 0])
        # Grow the mask by a pixel so the anti-aliased rim of each stroke is kept.
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        return stretch(ink * mask)


def member(labels: np.ndarray, wanted) -> np.ndarray:
    """uint8 mask of the pixels of ``labels`` whose label is in ``wanted`` (a list or an array).

    A lookup table: ``np.isin`` sorts on every call, and a read crops a few dozen boxes.
    """
    wanted = np.asarray(wanted, np.int64)
    if wanted.size == 1:
        return (labels == wanted.item()).view(np.uint8)
    table = np.zeros(int(labels.max(initial=0)) + 1, np.uint8)
    table[wanted[wanted < len(table)]] = 1
    return table[labels]


def percentile90(values: np.ndarray) -> float:
    """``np.percentile(values, 90)`` (linear interpolation) by partial sorting, several times faster."""
    pos = 0.9 * (values.size - 1)
    k = int(pos)
    if k + 1 >= values.size:
        return float(values.max())
    part = np.partition(values, (k, k + 1))
    return float(part[k] + (pos - k) * (part[k + 1] - part[k]))


def stretch(ink: np.ndarray) -> np.ndarray:
    """Scale a crop so its stroke cores reach 1.0, as MNIST's do (pencil and pale ink included)."""
    strokes = ink[ink > MIN_CONTRAST]
    if strokes.size == 0:
        return ink.copy()
    core = percentile90(strokes)
    return np.clip(ink / max(core, MIN_CONTRAST), 0.0, 1.0)


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or grey uint8 → grey uint8, keeping coloured ink (blue pen) dark."""
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected a grey (H, W) or colour (H, W, 3|4) image, got shape {image.shape}")
    b, g, r = cv2.split(np.ascontiguousarray(image[:, :, :3]))
    # The darkest channel keeps blue and red ink as dark as black ink on white paper, while white
    # and light-grey paper stays bright in every channel. (cv2.min: ~20× faster than ndarray.min.)
    return cv2.min(cv2.min(b, g), r)


def ink_map(gray: np.ndarray, *, edge_trend: bool = True) -> np.ndarray:
    """Ink strength in [0, 1]: how much darker each pixel is than the local paper."""
    h, w = gray.shape
    # Estimate the paper on a reduced image (its short side about PAPER_SIDE px: 80 measured better
    # and faster than 120 or 200): the paper varies slowly, and a filter there spans wide strokes.
    factor = max(1, min(h, w) // PAPER_SIDE)
    small = cv2.resize(gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    # The filter must be wider than any stroke or blot (or it hollows them out): pages are segmented
    # with digits about WORK_HEIGHT px tall, so PAPER_KERNEL times that (1.5 measured best of 0.8,
    # 1.5 and 2.5 on photo pages and scenes), and at least a twelfth of the page.
    k = max(7, min(small.shape) // 12, int(PAPER_KERNEL * WORK_HEIGHT / factor)) | 1
    # A closing (max filter, then min filter) removes every stroke narrower than k and keeps the
    # paper's own steps, such as the sharp edge of a hand's shadow, where they are; a light blur then
    # smooths the blocks of the reduced image.
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    if edge_trend:
        # At the image's edge the closing would see only the inside of the page: light that dims
        # towards the edge (vignetting, a shadow) would be taken for paper as bright as further in,
        # and the dim strip along the edge for ink. So the page is first extended by continuing its
        # trend outwards (an odd reflection), never brighter than its edge, which is what light
        # dimming towards the edge would have done; a digit near the edge is not mirrored as a
        # bright spot that way.
        pad = min(k, min(small.shape) - 1)
        edge = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE).astype(np.int16)
        mirror = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REFLECT_101).astype(np.int16)
        extended = np.clip(np.minimum(2 * edge - mirror, edge), 0, 255).astype(np.uint8)
        closed = cv2.morphologyEx(extended, cv2.MORPH_CLOSE, element)[pad:-pad or None, pad:-pad or None]
    else:
        closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, element)
    paper = cv2.blur(closed, (3, 3))
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    paper = np.maximum(paper, gray.astype(np.float32))
    return np.clip((paper - gray) / np.maximum(paper, 1.0), 0.0, 1.0)


def remove_rules(ink: np.ndarray, digit_px: float = WORK_HEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """The ink map without straight rules: ruled lines, a margin rule, underlines, a box's frame.

    Ink that runs straight, vertically or horizontally, for ``RULE_LENGTH`` digit heights
    (``digit_px`` pixels each; a grey opening with a line as long as that) is no digit's stroke:
    it is subtracted, so a margin rule is not read as a column of 1s and digits written on ruled
    paper come out of the lines. Openings weaker than half of ``MIN_CONTRAST`` are the paper's
    own residue, not rules, and are left alone. Also returns the uint8 mask of the horizontal
    rules found, for :func:`frame_sides`.
    """
    length = int(RULE_LENGTH * digit_px)
    if min(ink.shape) <= length:
        return ink, np.zeros(ink.shape, np.uint8)
    # On 8 bits: the openings run several times faster than on floats, and a 255th is fine enough.
    scaled = (ink * 255).astype(np.uint8)
    vertical = cv2.morphologyEx(scaled, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    horizontal = cv2.morphologyEx(scaled, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    rules = cv2.max(vertical, horizontal)
    if not rules.any():
        return ink, rules
    rules[rules < int(0.5 * MIN_CONTRAST * 255)] = 0
    cleaned = np.clip(ink - rules.astype(np.float32) / 255, 0.0, 1.0)
    return cleaned, (horizontal > int(MIN_CONTRAST * 255)).view(np.uint8)


def frame_sides(boxes: list[Box], rules: np.ndarray, digit_h: float) -> list[Box]:
    """Drop the short sides of a frame whose long sides were rules: thin upright strokes that meet a
    horizontal rule at their top and at their bottom (a 1 standing on an underline meets one only)."""
    if not rules.any():
        return boxes
    near = max(2, int(0.08 * digit_h))

    def meets(box: Box, row: int) -> bool:
        band = rules[max(0, row - near) : row + near + 1, max(0, box.x - near) : box.x2 + near]
        return bool(band.any())

    return [b for b in boxes
            if not (b.w <= 0.35 * b.h and meets(b, b.y) and meets(b, b.y2 - 1))]


def binarize(ink: np.ndarray, *, hysteresis: bool = True) -> np.ndarray:
    """uint8 mask (1 = ink) by Otsu's threshold on the ink map, never below MIN_CONTRAST.

    With ``hysteresis``, fainter ink (down to ``HYSTERESIS`` of the threshold) also counts within
    ``REACH`` pixels along faint ink from firm ink: a pale or thin stretch of a stroke keeps a digit in
    one piece, while faint things on their own (smudges, a light security pattern, ruled lines)
    stay out, and a faint line cannot carry the ink across the page from one digit to the next.
    """
    scaled = (ink * 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    t = float(np.clip(otsu / 255 * 0.8, MIN_CONTRAST, 0.5))
    mask = (scaled > int(t * 255)).view(np.uint8)
    if not hysteresis:
        return mask
    weak = (scaled > int(max(t * HYSTERESIS, MIN_CONTRAST * 0.75) * 255)).view(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for _ in range(REACH):  # geodesic dilation: grow the firm ink, one pixel a step, inside the faint
        mask = cv2.bitwise_and(cv2.dilate(mask, cross), weak)
    return mask


def components(mask: np.ndarray) -> tuple[np.ndarray, list[Box]]:
    """Connected components as boxes (8-connectivity), with tiny noise dropped."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes = []
    min_area = max(4, mask.size // 200_000)
    for i in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area) + 1:
        x, y, w, h, area = (int(v) for v in stats[i])
        boxes.append(Box(x, y, w, h, [int(i)], area))
    return labels, boxes


def typical_height(boxes: list[Box]) -> float:
    """The height of a digit on this page: the ink-weighted median of the component heights.

    Weighting by ink keeps many specks (little ink each) from dragging the estimate down, while
    the digits, which carry most of the ink on a page of numbers, decide it.
    """
    # Ruled lines, margins and the grid they make are not digits, however much ink they hold: long
    # and thin, or a big box that is almost empty.
    boxes = [b for b in boxes if b.w <= 5 * b.h and b.h <= 15 * b.w and b.area >= 0.04 * b.w * b.h]
    if not boxes:
        return 0.0
    order = sorted(boxes, key=lambda b: b.h)
    weights = np.cumsum([max(b.area, 1) for b in order])
    return float(order[int(np.searchsorted(weights, weights[-1] / 2))].h)


def group_fragments(boxes: list[Box], digit_h: float) -> list[Box]:
    """Join clusters of small fragments into one box when together they are a digit's size.

    A faint or pencil digit can binarize into a handful of short pieces, none of them as tall as a
    digit (and each dropped as a speck); fragments shorter than ``FRAGMENT_HEIGHT`` digit heights and
    closer to each other than ``FRAGMENT_GAP`` are joined, and a cluster at least ``FRAGMENT_MIN``
    digit heights tall (and not much bigger than a digit) becomes one box. The classifier (its "not a
    digit" output) still decides whether it is a digit.
    """
    small = [b for b in boxes if b.h < FRAGMENT_HEIGHT * digit_h]
    if len(small) < 2:
        return boxes
    reach = FRAGMENT_GAP * digit_h
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
    joined, used = [], set()
    for members in clusters.values():
        if len(members) < 2:
            continue
        union = members[0]
        for b in members[1:]:
            union = union.union(b)
        if FRAGMENT_MIN * digit_h <= union.h <= 1.3 * digit_h and union.w <= 1.3 * digit_h:
            joined.append(union)
            used.update(id(b) for b in members)
    return [b for b in boxes if id(b) not in used] + joined


def merge_pieces(boxes: list[Box], digit_h: float) -> list[Box]:
    """Merge components that overlap in columns and nearly touch vertically (one broken digit)."""
    boxes = sorted(boxes, key=lambda b: b.x)
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(boxes):
            for j in range(i + 1, len(boxes)):
                b = boxes[j]
                if b.x > a.x2:
                    break
                overlap = min(a.x2, b.x2) - max(a.x, b.x)
                gap = max(a.y, b.y) - min(a.y2, b.y2)
                joined = a.union(b)
                if (overlap >= 0.5 * min(a.w, b.w) and gap < 0.35 * digit_h
                        and joined.h <= 1.3 * digit_h):
                    boxes[i] = joined
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


def is_digit_like(box: Box, digit_h: float) -> bool:
    """False for specks, dots, dashes and ruled lines: things that are not a digit's size or shape."""
    if box.h < MIN_HEIGHT_RATIO * digit_h:
        return False
    if box.w > 4 * box.h:  # a ruled line or an underline
        return False
    if box.h > MAX_HEIGHT_RATIO * digit_h:  # a frame, a margin rule, a drawing: far taller than digits
        return False
    return True


def cut_pieces(box: Box, ink: np.ndarray, labels: np.ndarray, line_h: float) -> list[Box]:
    """Over-segment a box that may hold touching digits: cut it at its thinnest columns.

    Cuts go at the deepest local minima of the box's column ink profile, each piece at least
    ``MIN_PIECE`` of a digit height wide. The pieces are only candidates: ``ml.reading`` decides,
    with the classifier, which runs of them are digits (a wide 0 or 2 is put back together, a
    touching pair stays apart). Returns [] when the box is too narrow to hold two digits.
    """
    ref = max(box.h, 0.8 * line_h)
    min_piece = max(3, int(MIN_PIECE * ref))
    if box.w < SPLIT_ASPECT * ref or box.w < 2 * min_piece:
        return []
    region = ink[box.y : box.y2, box.x : box.x2]
    if box.labels:
        region = region * member(labels[box.y : box.y2, box.x : box.x2], box.labels)
    k = max(3, int(ref * 0.06)) | 1
    profile = cv2.blur(region.sum(axis=0, dtype=np.float32).reshape(1, -1), (k, 1)).ravel()
    inner = profile[min_piece : box.w - min_piece + 1]
    if inner.size == 0:
        return []
    # Local minima (plateaus count once), deepest first, kept if far enough from the cuts already taken.
    left = np.r_[np.inf, inner[:-1]]
    right = np.r_[inner[1:], np.inf]
    minima = np.flatnonzero((inner <= left) & (inner < right)) + min_piece
    cuts: list[int] = []
    most = max(MAX_CUTS, round(CUTS_PER_DIGIT * box.w / (DIGIT_WIDTH * ref)))
    for c in sorted(minima, key=lambda c: profile[c]):
        if all(abs(c - o) >= min_piece for o in cuts):
            cuts.append(int(c))
        if len(cuts) == most:
            break
    pieces, start = [], 0
    for cut in sorted(cuts) + [box.w]:
        piece = region[:, start:cut]
        rows = np.nonzero(piece.max(axis=1) > 0)[0]
        if len(rows):
            pieces.append(Box(box.x + start, box.y + int(rows[0]), cut - start,
                              int(rows[-1] - rows[0] + 1), list(box.labels), int((piece > 0).sum())))
        start = cut
    return pieces if len(pieces) > 1 else []


def group_lines(boxes: list[Box]) -> list[list[Box]]:
    """Lines top to bottom, each left to right; a box joins the line its vertical centre falls in."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.cy):
        best, best_overlap = None, 0.0
        for line in lines:
            # Compare with the line's nearest box in x, so a slightly rotated line still groups.
            near = min(line, key=lambda b: abs(b.x - box.x))
            overlap = min(near.y2, box.y2) - max(near.y, box.y)
            ratio = overlap / min(near.h, box.h)
            if ratio > 0.4 and ratio > best_overlap:
                best, best_overlap = line, ratio
        if best is None:
            lines.append([box])
        else:
            best.append(box)
    lines = [sorted(line, key=lambda b: b.x) for line in lines]
    return sorted(lines, key=lambda line: np.median([b.cy for b in line]))


@dataclass(frozen=True)
class Steps:
    """Which pipeline steps run; everything on is the product, the rest is for the ablation study."""

    rescale: bool = True  # large photos shrunk to the digits' size first (off: full resolution)
    background: bool = True  # ink relative to the local paper (off: relative to white)
    hysteresis: bool = True  # faint ink that joins strong ink counts (off: one threshold)
    merge: bool = True  # pieces of a broken digit merged by geometry
    filter: bool = True  # specks, dots and ruled lines dropped by size and shape
    cut: bool = True  # wide boxes over-segmented for touching digits
    rotated_lines: bool = True  # lines grouped box to box, tolerating rotation (off: by row bands)
    choose: bool = True  # the classifier picks digits among candidate runs (ml.reading)
    edge_trend: bool = True  # the paper's light continued past the image edge (off: edge strips)
    faint: bool = True  # crops take in the faint ink joined to a digit (off: the binarized ink only)
    fragments: bool = True  # clusters of small fragments (a faint digit in pieces) joined
    rules: bool = True  # straight ruled lines, margin rules and frames subtracted from the ink


ALL_STEPS = Steps()


def group_rows(boxes: list[Box], digit_h: float) -> list[list[Box]]:
    """The naive grouping (ablation baseline): boxes whose centres lie within one digit height of the
    previous box's, in top-to-bottom order, form a line."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.cy):
        if lines and abs(box.cy - lines[-1][-1].cy) < 0.5 * digit_h:
            lines[-1].append(box)
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.x) for line in lines]


def shrink(gray: np.ndarray, scale: float) -> np.ndarray:
    """``gray`` resized by ``scale`` < 1, each output pixel the mean of the pixels it covers.

    Exact halvings first (OpenCV averages 2×2 blocks in a vectorised path, ~40× faster than a general
    area resize of a 2-megapixel photo; an odd last row or column is dropped for it), then one area
    resize of the much smaller remainder.
    """
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    while gray.shape[1] >= 2 * size[0] and gray.shape[0] >= 2 * size[1]:
        h, w = gray.shape[0] // 2, gray.shape[1] // 2
        gray = cv2.resize(gray[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)
    if (gray.shape[1], gray.shape[0]) == size:
        return gray
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def work_scale(gray: np.ndarray) -> tuple[float, float]:
    """How much to shrink ``gray`` so its digits are about ``WORK_HEIGHT`` px tall (never enlarged), and
    the digits' height in ``gray``'s pixels.

    A probe at ``PROBE_SIDE`` px finds the digit height cheaply; a phone photo of a few large digits is
    then segmented at a fraction of its 2 megapixels, while an A4 sheet of small digits keeps its
    resolution. An image no larger than the probe is measured as it is and not shrunk (shrinking such
    small images too measured slightly worse on clean and photo pages). Pages with nothing digit-sized
    at the probe's scale are not shrunk, and their digits are taken to be ``WORK_HEIGHT`` px tall.
    """
    h, w = gray.shape
    probe = min(1.0, PROBE_SIDE / max(h, w))
    _, boxes = components(binarize(ink_map(shrink(gray, probe) if probe < 1 else gray)))
    digit_h = typical_height(boxes)
    if digit_h < 8:  # too small to measure at the probe: keep every pixel
        return 1.0, float(WORK_HEIGHT)
    if probe == 1.0:
        return 1.0, digit_h
    return min(1.0, WORK_HEIGHT / (digit_h / probe)), digit_h / probe


def segment(image: np.ndarray, steps: Steps = ALL_STEPS) -> Segmentation:
    """Find the digits of ``image`` (grey or BGR uint8) as lines of boxes in reading order.

    Boxes are in the pixels of the work resolution (see :func:`work_scale`);
    :meth:`Segmentation.image_box` gives them in the image's pixels.
    """
    if image.size == 0:
        raise ValueError(f"segment got an empty image of shape {image.shape}")
    gray = to_gray(image)
    probed, digits_tall = work_scale(gray)
    scale = probed if steps.rescale else 1.0
    if scale < 1.0:
        gray = shrink(gray, scale)
    # The digits' height in the pixels segmented: WORK_HEIGHT once shrunk; more in a small image of
    # big digits, which is not shrunk, or without rescaling; never taken as less (rules stay long).
    digit_px = max(float(WORK_HEIGHT), digits_tall * scale)
    if steps.background:
        ink = ink_map(gray, edge_trend=steps.edge_trend)
    else:
        ink = 1.0 - gray.astype(np.float32) / 255
    rules = None
    if steps.rules:
        ink, rules = remove_rules(ink, digit_px)
    labels, boxes = components(binarize(ink, hysteresis=steps.hysteresis))
    digit_h = typical_height(boxes)
    if rules is not None:
        boxes = frame_sides(boxes, rules, digit_h)
    if steps.merge:
        if steps.fragments:
            boxes = group_fragments(boxes, digit_h)
        boxes = merge_pieces(boxes, digit_h)
        digit_h = typical_height(boxes)
    if steps.filter:
        boxes = [b for b in boxes if is_digit_like(b, digit_h)]
    lines = group_lines(boxes) if steps.rotated_lines else group_rows(boxes, digit_h)
    for line in lines:
        line_h = float(np.median([b.h for b in line]))
        for b in line:
            b.pieces = cut_pieces(b, ink, labels, line_h) if steps.cut else []
    return Segmentation(lines, ink, labels, scale, faint=steps.faint)
