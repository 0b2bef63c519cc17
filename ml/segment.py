"""An image → lines of digit boxes in reading order, plus the crop of each digit's ink.

Pipeline (each step is a function, so tests and the reading benchmark can look at each):

1. ``ink_map``: grey levels → ink strength in [0, 1], relative to a background estimated with a
   max filter wider than any stroke (so uneven light and tinted paper drop out).
2. ``binarize``: a global threshold on the ink map (Otsu, clamped so a blank page stays blank).
3. ``components``: connected components, specks and ruled lines removed by size relative to the
   typical digit height on the page.
4. ``merge_pieces``: pieces of one broken digit (a 5's detached bar) merge when they share columns.
5. ``split_wide``: a box wider than a digit gets candidate pieces, cut at its thinnest columns
   (touching digits); ``ml.reading`` keeps the pieces only when the classifier reads them with more
   confidence than the whole (a wide 2 or 0 stays whole).
6. ``group_lines``: boxes grouped into lines by vertical overlap, lines top to bottom, digits left
   to right.

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
# Components shorter than this share of the page's typical digit height are specks, dots or commas.
MIN_HEIGHT_RATIO = 0.4
# A box wider than this many digit heights is checked for touching digits.
SPLIT_ASPECT = 1.0


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
        return Box(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y,
                   self.labels + other.labels, self.area + other.area)

    def as_list(self) -> list[int]:
        return [int(self.x), int(self.y), int(self.w), int(self.h)]


@dataclass
class Segmentation:
    lines: list[list[Box]]
    ink: np.ndarray  # float32 ink strength in [0, 1], same size as the image
    labels: np.ndarray  # int32 component label per pixel (0 = background)

    @property
    def boxes(self) -> list[Box]:
        return [b for line in self.lines for b in line]

    def crop(self, box: Box) -> np.ndarray:
        """The ink of ``box`` only (neighbours' strokes that reach into it are masked out)."""
        ink = self.ink[box.y : box.y2, box.x : box.x2]
        if not box.labels:
            return stretch(ink)
        mask = np.isin(self.labels[box.y : box.y2, box.x : box.x2], box.labels).astype(np.uint8)
        # Grow the mask by a pixel so the anti-aliased rim of each stroke is kept.
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        return stretch(ink * mask)


def stretch(ink: np.ndarray) -> np.ndarray:
    """Scale a crop so its stroke cores reach 1.0, as MNIST's do (pencil and pale ink included)."""
    strokes = ink[ink > MIN_CONTRAST]
    if strokes.size == 0:
        return ink.copy()
    core = float(np.percentile(strokes, 90))
    return np.clip(ink / max(core, MIN_CONTRAST), 0.0, 1.0)


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or grey uint8 → grey uint8, keeping coloured ink (blue pen) dark."""
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected a grey (H, W) or colour (H, W, 3|4) image, got shape {image.shape}")
    bgr = image[:, :, :3]
    # The darkest channel keeps blue and red ink as dark as black ink on white paper, while white
    # and light-grey paper stays bright in every channel.
    return bgr.min(axis=2)


def ink_map(gray: np.ndarray) -> np.ndarray:
    """Ink strength in [0, 1]: how much darker each pixel is than the local paper."""
    h, w = gray.shape
    # Estimate the paper on a reduced image: fast, and a max filter there spans wide strokes.
    factor = max(1, min(h, w) // 200)
    small = cv2.resize(gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    k = max(7, min(small.shape) // 12) | 1
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    paper = cv2.blur(paper, (k, k))
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    paper = np.maximum(paper, gray.astype(np.float32))
    return np.clip((paper - gray) / np.maximum(paper, 1.0), 0.0, 1.0)


def binarize(ink: np.ndarray) -> np.ndarray:
    """uint8 mask (255 = ink) by Otsu's threshold on the ink map, never below MIN_CONTRAST."""
    scaled = (ink * 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    t = float(np.clip(otsu / 255 * 0.8, MIN_CONTRAST, 0.5))
    return (ink > t).astype(np.uint8) * 255


def components(mask: np.ndarray) -> tuple[np.ndarray, list[Box]]:
    """Connected components as boxes (8-connectivity), with tiny noise dropped."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes = []
    min_area = max(4, mask.size // 200_000)
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area >= min_area:
            boxes.append(Box(x, y, w, h, [i], area))
    return labels, boxes


def typical_height(boxes: list[Box]) -> float:
    """The height of a digit on this page: the ink-weighted median of the component heights.

    Weighting by ink keeps many specks (little ink each) from dragging the estimate down, while
    the digits, which carry most of the ink on a page of numbers, decide it.
    """
    if not boxes:
        return 0.0
    order = sorted(boxes, key=lambda b: b.h)
    weights = np.cumsum([max(b.area, 1) for b in order])
    return float(order[int(np.searchsorted(weights, weights[-1] / 2))].h)


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
    return True


def split_wide(box: Box, ink: np.ndarray, labels: np.ndarray, digit_h: float) -> list[Box]:
    """Split a box holding touching digits at its weakest columns; others are returned unchanged."""
    n = int(round(box.w / max(box.h * 0.75, 1)))
    if box.w < SPLIT_ASPECT * box.h or n < 2:
        return [box]
    region = ink[box.y : box.y2, box.x : box.x2]
    if box.labels:
        region = region * np.isin(labels[box.y : box.y2, box.x : box.x2], box.labels)
    profile = cv2.blur(region.sum(axis=0, dtype=np.float32).reshape(1, -1), (3, 1)).ravel()
    cuts, step = [], box.w / n
    for k in range(1, n):
        # Look for the thinnest column within ±30% of a digit width of the even split point.
        lo, hi = int((k - 0.3) * step), int((k + 0.3) * step) + 1
        cuts.append(lo + int(np.argmin(profile[lo:hi])))
    pieces, start = [], 0
    for cut in cuts + [box.w]:
        piece = region[:, start:cut]
        rows = np.nonzero(piece.any(axis=1))[0]
        if len(rows) and cut > start:
            pieces.append(Box(box.x + start, box.y + int(rows[0]), cut - start,
                              int(rows[-1] - rows[0] + 1), list(box.labels), int((piece > 0).sum())))
        start = cut
    return pieces


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


def segment(image: np.ndarray) -> Segmentation:
    """Find the digits of ``image`` (grey or BGR uint8) as lines of boxes in reading order."""
    if image.size == 0:
        raise ValueError(f"segment got an empty image of shape {image.shape}")
    gray = to_gray(image)
    ink = ink_map(gray)
    labels, boxes = components(binarize(ink))
    digit_h = typical_height(boxes)
    boxes = merge_pieces(boxes, digit_h)
    digit_h = typical_height(boxes)
    boxes = [b for b in boxes if is_digit_like(b, digit_h)]
    for b in boxes:
        pieces = split_wide(b, ink, labels, digit_h)
        b.pieces = pieces if len(pieces) > 1 else []
    return Segmentation(group_lines(boxes), ink, labels)
