"""A digit's :class:`Box`, and a :class:`Segmentation`: lines of boxes over the ink they were found in,
which crops each digit's own ink for the classifier.

>>> a, b = Box(0, 0, 10, 20), Box(8, 2, 10, 20)
>>> a.union(b).as_list(), a.x2, b.cy
([0, 0, 18, 22], 10, 12.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .params import SEGMENT, SegmentParams


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
    # split is decided by the classifier (ml.reading.split.choose), which sees both readings.
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
    params: SegmentParams = SEGMENT
    # Per line, the separators between its digits (ml.reading.separators.Mark: char, box).
    marks: list = field(default_factory=list)
    # The thin uprights told from 1s (cells' hairlines, pieces of a page's edge: ml.reading.uprights),
    # for :meth:`erase`.
    uprights: list[Box] = field(default_factory=list)
    # The share of each pixel's ink taken out as a row of cells' sides (float32 at the work resolution,
    # 0 to 1, or None: ml.reading.cells), for :meth:`erase`.
    cell_sides: np.ndarray | None = None

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
        keep = [int(label) for label, n in zip(found, counts) if n >= self.params.box_at_share * counts.max()]
        return Box(x, y, max(w, 1), max(h, 1), keep, int(counts.sum()) if len(counts) else 0)

    def erase(self, gray: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """``gray`` (the image segmented, at its own resolution) with the ink of ``boxes`` painted over
        in the grey of the paper round it: what the line reader is given once the segmenter has told a
        cell's line from a 1 (it would read the line as a 1 again). ``gray`` itself is not changed.

        >>> gray = np.full((40, 60), 230, np.uint8); gray[5:35, 30] = 170
        >>> seg = Segmentation([], np.zeros((40, 60), np.float32), (gray < 200).astype(np.int32))
        >>> int(seg.erase(gray, [Box(30, 5, 1, 30, [1])]).min()), int(gray.min())
        (230, 170)
        """
        out = self._erase_sides(gray)
        if not boxes:
            return out
        out = gray.copy() if out is gray else out
        grow = 3  # work pixels round the ink: the paper's grey is taken there
        for box in boxes:
            region = Box(max(0, box.x - grow), max(0, box.y - grow), box.w + 2 * grow, box.h + 2 * grow)
            x, y, w, h = self.image_box(region)
            window = out[y : y + h, x : x + w]
            own = member(self.labels[region.y : region.y2, region.x : region.x2], box.labels)
            if not window.size or not own.size:
                continue
            mask = cv2.resize(own, window.shape[::-1], interpolation=cv2.INTER_NEAREST)
            # The stroke's anti-aliased rim and blur too: a work pixel round it, in the image's pixels.
            mask = cv2.dilate(mask, np.ones((2 * int(np.ceil(1 / self.scale)) + 1,) * 2, np.uint8))
            if mask.all():
                continue
            window[mask > 0] = np.median(window[mask == 0])
        return out

    def _erase_sides(self, gray: np.ndarray) -> np.ndarray:
        """``gray`` with the cells' sides (:attr:`cell_sides`) lightened towards the paper's grey beside
        them (the lightest grey a few of their widths to the left and right) by the share of the ink
        the segmenter took out there, or ``gray`` itself. A digit's stroke lying along a side keeps
        the ink the side did not account for, as it does in the segmenter's ink: painted over whole,
        the side took a 9's loop and a 6's stem with it, and the line reader read them as 1 and 0.

        >>> gray = np.full((40, 60), 230, np.uint8); gray[:, 20] = 90; gray[10:20, 16:20] = 60
        >>> share = np.zeros((40, 60), np.float32); share[:, 20] = 1.0; share[10:20, 16:20] = 0.2
        >>> seg = Segmentation([], np.zeros((40, 60), np.float32), np.zeros((40, 60), np.int32),
        ...                    cell_sides=share)
        >>> out = seg._erase_sides(gray); int(out[30, 20]), int(out[15, 20]), int(out[15, 17]) < 120
        (230, 230, True)
        """
        if self.cell_sides is None:
            return gray
        rim = 2 * int(np.ceil(1 / self.scale)) + 1
        share = cv2.resize(self.cell_sides, gray.shape[::-1], interpolation=cv2.INTER_LINEAR)
        beside = cv2.dilate(gray, np.ones((1, 4 * rim + 1), np.uint8)).astype(np.float32)
        out = gray.astype(np.float32)
        return np.clip(out + (beside - out) * share, 0, 255).astype(np.uint8)

    @property
    def boxes(self) -> list[Box]:
        return [b for line in self.lines for b in line]

    def crop(self, box: Box) -> np.ndarray:
        """The ink of ``box`` only (neighbours' strokes that reach into it are masked out)."""
        p = self.params
        ink = self.ink[box.y : box.y2, box.x : box.x2]
        if not box.labels:
            return stretch(ink, min_contrast=p.min_contrast)
        labels = self.labels[box.y : box.y2, box.x : box.x2]
        mask = member(labels, box.labels)
        if self.faint and mask.any():
            mask = self._with_faint_ink(ink, labels, mask)
        # Grow the mask by a pixel so the anti-aliased rim of each stroke is kept.
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        return thicken(stretch(ink * mask, min_contrast=p.min_contrast), max(box.w, box.h), params=p)

    def _with_faint_ink(self, ink: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Recover the faint stretches of the digit's own strokes that binarizing lost (a pencil 0
        whose pale side fell below the page's threshold reads as a 6 without it): add the ink of at
        least ``crop_faint`` of the digit's own stroke strength that connects to it inside the box,
        keeping away from the other components there. (Looking beyond the box as well measured no
        better on photo pages and worse on ruled sheets.)"""
        p = self.params
        core = percentile90(ink[mask > 0])
        weak = (ink > max(p.crop_faint * core, p.min_contrast * p.crop_faint_floor)).view(np.uint8)
        others = ((labels > 0) & (mask == 0)).view(np.uint8)
        near_others = cv2.dilate(others, np.ones((p.crop_keep_away,) * 2, np.uint8))
        weak = cv2.bitwise_or(cv2.bitwise_and(weak, 1 - near_others), mask)
        _, parts = cv2.connectedComponents(weak, connectivity=8)
        return member(parts, parts[mask > 0])


def thicken(crop: np.ndarray, side: int, *, params: SegmentParams = SEGMENT) -> np.ndarray:
    """``crop`` (ink in [0, 1]) with its strokes thickened when, scaled so its longer ``side`` is
    MNIST's 20 px, they would be under ``crop_thin`` px wide (a digit drawn with a 1-px line in a paint
    program, not shrunk as a small image is not): dilated until they are ``crop_thin_to`` px. A stroke's
    width is its ink's area over half its rim.

    >>> line = np.zeros((160, 90), np.float32); line[10:150, 40] = 1.0       # a 1-px upright, 140 tall
    >>> int((thicken(line, 160) > 0.5).sum(axis=1).max()), int((thicken(line, 20) > 0.5).sum(axis=1).max())
    (9, 1)
    """
    scale = 20.0 / max(side, 1)
    if 2.0 * scale >= params.crop_thin:  # nothing under 2 px can be measured finer: no thin strokes
        return crop
    ink = (crop > 0.2).view(np.uint8)
    area = int(ink.sum())
    if area == 0:
        return crop
    rim = area - int(cv2.erode(ink, np.ones((3, 3), np.uint8)).sum())
    width = area / max(rim / 2, 1)
    if width * scale >= params.crop_thin:
        return crop
    radius = int(np.ceil((params.crop_thin_to / scale - width) / 2))
    return cv2.dilate(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))


def member(labels: np.ndarray, wanted) -> np.ndarray:
    """uint8 mask of the pixels of ``labels`` whose label is in ``wanted`` (a list or an array).

    A lookup table: ``np.isin`` sorts on every call, and a read crops a few dozen boxes.

    >>> member(np.array([[0, 1], [2, 3]]), [1, 3]).tolist()
    [[0, 1], [0, 1]]
    """
    wanted = np.asarray(wanted, np.int64)
    if wanted.size == 1:
        return (labels == wanted.item()).view(np.uint8)
    table = np.zeros(int(labels.max(initial=0)) + 1, np.uint8)
    table[wanted[wanted < len(table)]] = 1
    return table[labels]


def percentile90(values: np.ndarray) -> float:
    """``np.percentile(values, 90)`` (linear interpolation) by partial sorting, several times faster.

    >>> percentile90(np.arange(11, dtype=np.float32))
    9.0
    """
    pos = 0.9 * (values.size - 1)
    k = int(pos)
    if k + 1 >= values.size:
        return float(values.max())
    part = np.partition(values, (k, k + 1))
    return float(part[k] + (pos - k) * (part[k + 1] - part[k]))


def stretch(ink: np.ndarray, *, min_contrast: float = SEGMENT.min_contrast) -> np.ndarray:
    """Scale a crop so its stroke cores reach 1.0, as MNIST's do (pencil and pale ink included).

    >>> float(stretch(np.array([[0.0, 0.5, 0.5]], np.float32)).max())
    1.0
    """
    strokes = ink[ink > min_contrast]
    if strokes.size == 0:
        return ink.copy()
    core = percentile90(strokes)
    return np.clip(ink / max(core, min_contrast), 0.0, 1.0)
