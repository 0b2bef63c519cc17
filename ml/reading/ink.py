"""From pixels to ink: grey levels, the paper's light, straight rules, and the threshold.

Each function takes the image first and the :class:`~ml.reading.params.SegmentParams` keyword-only, and
never modifies its input.

>>> import numpy as np
>>> page = np.full((60, 60), 230, np.uint8); page[20:40, 28:32] = 40
>>> int(binarize(ink_map(page)).sum())
80
"""

from __future__ import annotations

import cv2
import numpy as np

from .params import SEGMENT, SegmentParams


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or grey uint8 → grey uint8, keeping coloured ink (blue pen) dark.

    >>> to_gray(np.array([[[200, 90, 40]]], np.uint8)).tolist()   # blue ink stays dark
    [[40]]
    """
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected a grey (H, W) or colour (H, W, 3|4) image, got shape {image.shape}")
    b, g, r = cv2.split(np.ascontiguousarray(image[:, :, :3]))
    # The darkest channel keeps blue and red ink as dark as black ink on white paper, while white
    # and light-grey paper stays bright in every channel. (cv2.min: ~20× faster than ndarray.min.)
    return cv2.min(cv2.min(b, g), r)


def shrink(gray: np.ndarray, scale: float) -> np.ndarray:
    """``gray`` resized by ``scale`` < 1, each output pixel the mean of the pixels it covers.

    Exact halvings first (OpenCV averages 2×2 blocks in a vectorised path, ~40× faster than a general
    area resize of a 2-megapixel photo; an odd last row or column is dropped for it), then one area
    resize of the much smaller remainder.

    >>> shrink(np.zeros((1200, 1600), np.uint8), 0.3).shape
    (360, 480)
    """
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    while gray.shape[1] >= 2 * size[0] and gray.shape[0] >= 2 * size[1]:
        h, w = gray.shape[0] // 2, gray.shape[1] // 2
        gray = cv2.resize(gray[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)
    if (gray.shape[1], gray.shape[0]) == size:
        return gray
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def ink_map(gray: np.ndarray, *, edge_trend: bool = True, params: SegmentParams = SEGMENT) -> np.ndarray:
    """Ink strength in [0, 1]: how much darker each pixel is than the local paper.

    >>> float(ink_map(np.full((50, 50), 200, np.uint8)).max())   # blank paper holds no ink
    0.0
    """
    h, w = gray.shape
    # Estimate the paper on a reduced image (short side about ``paper_side`` px): the paper varies
    # slowly, and a filter there spans wide strokes.
    factor = max(1, min(h, w) // params.paper_side)
    small = cv2.resize(gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    # The filter must be wider than any stroke or blot (or it hollows them out): digits are about
    # ``work_height`` px tall, so ``paper_kernel`` times that, and at least a part of the page.
    k = max(params.paper_min_kernel, min(small.shape) // params.paper_page_divisor,
            int(params.paper_kernel * params.work_height / factor)) | 1
    # A closing (max filter, then min filter) removes every stroke narrower than k and keeps the
    # paper's own steps, such as the sharp edge of a hand's shadow, where they are; a light blur then
    # smooths the blocks of the reduced image.
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    if edge_trend:
        closed = _close_with_edge_trend(small, element, k)
    else:
        closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, element)
    paper = cv2.blur(closed, (3, 3))
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    paper = np.maximum(paper, gray.astype(np.float32))
    return np.clip((paper - gray) / np.maximum(paper, 1.0), 0.0, 1.0)


def _close_with_edge_trend(small: np.ndarray, element: np.ndarray, k: int) -> np.ndarray:
    """The closing of ``small`` with the page's light continued past its edge.

    At the image's edge the closing would see only the inside of the page: light that dims towards
    the edge (vignetting, a shadow) would be taken for paper as bright as further in, and the dim
    strip along the edge for ink. So the page is first extended by continuing its trend outwards (an
    odd reflection), never brighter than its edge, which is what light dimming towards the edge would
    have done; a digit near the edge is not mirrored as a bright spot that way.
    """
    pad = min(k, min(small.shape) - 1)
    edge = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE).astype(np.int16)
    mirror = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REFLECT_101).astype(np.int16)
    extended = np.clip(np.minimum(2 * edge - mirror, edge), 0, 255).astype(np.uint8)
    return cv2.morphologyEx(extended, cv2.MORPH_CLOSE, element)[pad:-pad or None, pad:-pad or None]


def remove_rules(ink: np.ndarray, digit_px: float = SEGMENT.work_height, *,
                 params: SegmentParams = SEGMENT) -> tuple[np.ndarray, np.ndarray]:
    """The ink map without straight rules: ruled lines, a margin rule, underlines, a box's frame.

    Ink that runs straight, vertically or horizontally, for ``rule_length`` digit heights
    (``digit_px`` pixels each; a grey opening with a line as long as that) is no digit's stroke:
    it is subtracted, so a margin rule is not read as a column of 1s and digits written on ruled
    paper come out of the lines. Openings weaker than ``rule_floor`` × ``min_contrast`` are the
    paper's own residue, not rules, and are left alone. Also returns the uint8 mask of the
    horizontal rules found, for :func:`ml.reading.components.frame_sides`.

    >>> ink = np.zeros((200, 200), np.float32); ink[100, :] = 1.0   # one ruled line
    >>> cleaned, rules = remove_rules(ink)
    >>> float(cleaned.max()), int(rules[100].sum())
    (0.0, 200)
    """
    length = int(params.rule_length * digit_px)
    if min(ink.shape) <= length:
        return ink, np.zeros(ink.shape, np.uint8)
    # On 8 bits: the openings run several times faster than on floats, and a 255th is fine enough.
    scaled = (ink * 255).astype(np.uint8)
    vertical = cv2.morphologyEx(scaled, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    horizontal = cv2.morphologyEx(scaled, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    rules = cv2.max(vertical, horizontal)
    if not rules.any():
        return ink, rules
    rules[rules < int(params.rule_floor * params.min_contrast * 255)] = 0
    cleaned = np.clip(ink - rules.astype(np.float32) / 255, 0.0, 1.0)
    return cleaned, (horizontal > int(params.min_contrast * 255)).view(np.uint8)


def binarize(ink: np.ndarray, *, hysteresis: bool = True, params: SegmentParams = SEGMENT) -> np.ndarray:
    """uint8 mask (1 = ink) by Otsu's threshold on the ink map, never below ``min_contrast``.

    With ``hysteresis``, fainter ink (down to ``params.hysteresis`` of the threshold) also counts
    within ``reach`` pixels along faint ink from firm ink: a pale or thin stretch of a stroke keeps a
    digit in one piece, while faint things on their own (smudges, a light security pattern, ruled
    lines) stay out, and a faint line cannot carry the ink across the page from one digit to the next.

    >>> ink = np.zeros((30, 40), np.float32); ink[5:25, 5:12] = 1.0      # a firm stroke, 140 px
    >>> ink[5:25, 12] = 0.15; ink[5:25, 30] = 0.15                        # a pale edge to it; a pale line
    >>> int(binarize(ink, hysteresis=False).sum()), int(binarize(ink).sum())
    (140, 160)
    """
    scaled = (ink * 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    t = float(np.clip(otsu / 255 * params.otsu_scale, params.min_contrast, params.max_threshold))
    mask = (scaled > int(t * 255)).view(np.uint8)
    if not hysteresis:
        return mask
    floor = max(t * params.hysteresis, params.min_contrast * params.weak_floor)
    weak = (scaled > int(floor * 255)).view(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for _ in range(params.reach):  # geodesic dilation: grow the firm ink, one pixel a step, inside the faint
        mask = cv2.bitwise_and(cv2.dilate(mask, cross), weak)
    return mask
