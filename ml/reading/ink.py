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


def to_gray(image: np.ndarray, *, params: SegmentParams = SEGMENT) -> np.ndarray:
    """BGR, BGRA or grey uint8 → grey uint8, keeping coloured ink (blue pen) dark: each pixel's darkest
    channel among those in which the paper is bright (``paper_channel``).

    >>> page = np.full((40, 40, 3), 235, np.uint8); page[10:30, 18:22] = (200, 90, 40)
    >>> int(to_gray(page)[20, 20])                      # blue ink stays dark on white paper
    40
    >>> yellow = np.full((40, 40, 3), (60, 210, 220), np.uint8); yellow[10:30, 18:22] = (70, 80, 60)
    >>> int(to_gray(yellow)[0, 0]), int(to_gray(yellow)[20, 20])  # yellow paper is not dark in blue
    (210, 60)
    """
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected a grey (H, W) or colour (H, W, 3|4) image, got shape {image.shape}")
    channels = cv2.split(np.ascontiguousarray(image[:, :, :3]))
    step = params.paper_stride
    paper = np.median(image[::step, ::step, :3].reshape(-1, 3), axis=0)
    # The darkest channel keeps blue and red ink as dark as black ink on white paper, while white
    # and light-grey paper stays bright in every channel. (cv2.min: ~20× faster than ndarray.min.)
    kept = [c for c, level in zip(channels, paper) if level >= params.paper_channel * paper.max()]
    gray = kept[0]
    for channel in kept[1:]:
        gray = cv2.min(gray, channel)
    return gray


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


# What :func:`polarity` says of an image.
DARK_INK, LIGHT_INK, EITHER = "dark ink", "light ink", "either"


def polarity(gray: np.ndarray, *, params: SegmentParams = SEGMENT) -> str:
    """Whether ``gray`` holds dark ink on a light ground (:data:`DARK_INK`, nearly every photo and scan),
    light ink on a dark ground (:data:`LIGHT_INK`: chalk, a white-on-black canvas, MNIST as stored), or
    cannot be told by looking (:data:`EITHER`: the reader then reads it both ways).

    >>> digit = np.zeros((28, 28), np.uint8); digit[4:24, 12:15] = 255      # a white 1 on black
    >>> polarity(digit), polarity(255 - digit)
    ('light ink', 'dark ink')
    """
    h, w = gray.shape
    # A glance first (every 8th pixel or so): most photos are plainly light paper, and are told so at
    # once, without shrinking the whole image for the closer look below.
    step = max(1, max(h, w) // 200)
    glance = gray[::step, ::step]
    if (glance > cv2.threshold(glance, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]).mean() > 0.6:
        return DARK_INK
    probe = min(1.0, params.probe_side / max(h, w))
    g = shrink(gray, probe) if probe < 1 else gray
    otsu, _ = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light = (g > otsu).view(np.uint8)
    if not light.any() or light.all():
        return DARK_INK
    border = np.concatenate([light[0], light[-1], light[:, 0], light[:, -1]])
    bright, dark = float(g[light > 0].mean()), float(g[light == 0].mean())
    if (light.mean() > 1 - params.light_majority or border.mean() > 1 - params.light_border
            or bright - dark < params.light_contrast * bright):
        return DARK_INK
    if max(h, w) <= params.light_small:
        return LIGHT_INK
    widths = _stroke_widths(light)
    if widths < params.light_strokes:
        return LIGHT_INK
    return EITHER if widths < params.light_page else DARK_INK


def _stroke_widths(mask: np.ndarray) -> float:
    """Area-weighted over the components of ``mask``: twice the widest inscribed radius over the
    component's height. Strokes are thin for their height (a 1: a tenth), a sheet of paper is not."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    widest = np.zeros(count, np.float32)
    np.maximum.at(widest, labels.ravel(), distance.ravel())
    heights = np.maximum(stats[1:, cv2.CC_STAT_HEIGHT], 1).astype(np.float64)
    return float(np.average(2 * widest[1:] / heights, weights=stats[1:, cv2.CC_STAT_AREA]))


def ink_map(gray: np.ndarray, *, edge_trend: bool = True, near_px: int = 0, paper: np.ndarray | None = None,
            params: SegmentParams = SEGMENT) -> np.ndarray:
    """Ink strength in [0, 1]: how much darker each pixel is than the local paper (``paper``: its
    estimate by :func:`paper_map` where the caller has it already).

    With ``near_px`` (wider than any stroke), the paper is also kept from spilling across sharp steps
    of its own brightness (see ``SegmentParams.paper_near``).

    >>> float(ink_map(np.full((50, 50), 200, np.uint8)).max())   # blank paper holds no ink
    0.0
    """
    if paper is None:
        paper = paper_map(gray, edge_trend=edge_trend, params=params)
    if near_px:
        # The estimate made on the reduced copy is blurred across sharp steps of the paper itself (the
        # edge of the page on a darker desk, a table's edge, the frame of a photo): there the bright
        # side spills onto the dark one, which then reads as a long stroke of ink. A closing at full
        # resolution, just wide enough to fill any stroke, does not spill: the paper is nowhere
        # brighter than that.
        square = np.ones((max(3, near_px) | 1,) * 2, np.uint8)
        paper = cv2.min(paper, cv2.morphologyEx(gray, cv2.MORPH_CLOSE, square))
    paper = np.maximum(paper.astype(np.float32), gray.astype(np.float32))
    return np.clip((paper - gray) / np.maximum(paper, 1.0), 0.0, 1.0)


def paper_map(gray: np.ndarray, *, edge_trend: bool = True, params: SegmentParams = SEGMENT) -> np.ndarray:
    """The paper's grey under ``gray`` (uint8, its size), estimated on a reduced copy by a closing wider
    than any stroke.

    >>> page = np.full((60, 60), 220, np.uint8); page[20:40, 28:32] = 30     # a 1 on paper
    >>> int(paper_map(page)[30, 30])
    220
    """
    h, w = gray.shape
    # Estimate the paper on a reduced image (short side about ``paper_side`` px): the paper varies
    # slowly, and a filter there spans wide strokes.
    factor = max(1, min(h, w) // params.paper_side)
    small = cv2.resize(gray, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    # The filter must be wider than any stroke or blot (or it hollows them out): digits are about
    # ``work_height`` px tall, so ``paper_kernel`` times that, and at least a part of the page.
    k = max(params.paper_min_kernel, min(small.shape) // params.paper_page_divisor,
            int(params.paper_kernel * params.work_height / factor))
    # ...but no wider than the image is short: a small image (a 28 px digit, a cheque's amount field) has
    # no stroke that wide; such a filter spans it whatever its shape, so it is square (two 1-D passes: a
    # 28 px digit read in a ninth less time), elsewhere round. A closing (max, then min filter) removes
    # strokes narrower than k and keeps the paper's own steps (a hand's shadow's edge); a blur follows.
    across = k >= min(small.shape)
    k = min(k, max(params.paper_min_kernel, min(small.shape))) | 1
    element = cv2.getStructuringElement(cv2.MORPH_RECT if across else cv2.MORPH_ELLIPSE, (k, k))
    if edge_trend:
        closed = _close_with_edge_trend(small, element, k)
    else:
        closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, element)
    return cv2.resize(cv2.blur(closed, (3, 3)), (w, h), interpolation=cv2.INTER_LINEAR)


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


def remove_rules(ink: np.ndarray, digit_px: float = SEGMENT.work_height, measured: float = 0.0, *,
                 params: SegmentParams = SEGMENT) -> tuple[np.ndarray, np.ndarray]:
    """The ink map without straight rules: ruled lines, a margin rule, underlines, a box's frame.

    Ink that runs along the rows or the columns, on the rules' own slant (``rule_slant``), for
    ``rule_length`` digit heights (``digit_px`` pixels each; grey openings ``rule_piece`` digits long
    joined into lines that long, see ``_rules_along``) is no digit's stroke: it is subtracted, so a
    margin rule is not read as a column of 1s and digits written on ruled paper come out of the lines.
    Openings weaker than ``rule_floor`` × ``min_contrast`` are the paper's own residue, not rules, and
    are left alone. Also returns the uint8 mask of the rules found: 1 where a horizontal one ran (for
    :func:`ml.reading.components.frame_sides`), 2 where an upright one did (for
    :func:`ml.reading.uprights.hairlines`), 3 where they cross.

    In an image less than a rule high (a crop of a table) whose digits are ``measured`` px tall, an upright
    ``rule_rows`` of them long across ``rule_across`` of its height is a rule too (a score card's cells).

    >>> ink = np.zeros((200, 200), np.float32); ink[100, :] = 1.0; ink[:, 50] = 1.0   # a rule, a margin
    >>> cleaned, rules = remove_rules(ink)
    >>> float(cleaned.max()), int((rules[100] & 1).sum()), int((rules[:, 50] >> 1).sum()), int(rules[100, 50])
    (0.0, 200, 200, 3)
    >>> table = np.zeros((90, 300), np.float32); table[:, 100] = 1.0; table[10:40, 50] = 1.0  # a 1
    >>> cleaned, _ = remove_rules(table, 40.0, 28.0)
    >>> float(cleaned[:, 100].max()), float(cleaned[:, 50].max())
    (0.0, 1.0)
    """
    length = upright_length = int(params.rule_length * digit_px)
    h = ink.shape[0]
    if h <= length and measured and params.rule_rows * measured <= params.rule_across * h:
        upright_length = int(params.rule_across * h)  # a table's crop
    if ink.shape[1] <= length and h <= upright_length:
        return ink, np.zeros(ink.shape, np.uint8)
    # On 8 bits: the openings run several times faster than on floats, and a 255th is fine enough.
    scaled = (ink * 255).astype(np.uint8)
    floor = int(params.rule_floor * params.min_contrast * 255)
    piece = max(3, int(params.rule_piece * digit_px))
    # Each way only where the image is longer than a rule: a strip (a cheque's amount, a row of a
    # form) can hold an underline however low it is.
    none = np.zeros_like(scaled)
    horizontal = _rules_along(scaled, length, piece, floor, params) if ink.shape[1] > length else none
    if h > upright_length:
        upright = _rules_along(np.ascontiguousarray(scaled.T), upright_length, piece, floor, params)
        vertical = np.ascontiguousarray(upright.T)
    else:
        vertical = none
    rules = cv2.max(vertical, horizontal)
    if not rules.any():
        return ink, rules
    rules[rules < floor] = 0
    cleaned = np.clip(ink - rules.astype(np.float32) / 255, 0.0, 1.0)
    strong = int(params.min_contrast * 255)
    return cleaned, (horizontal > strong).view(np.uint8) | ((vertical > strong).view(np.uint8) << 1)


def rule_slant(scaled: np.ndarray, *, min_contrast: float = SEGMENT.min_contrast,
               params: SegmentParams = SEGMENT) -> float:
    """The slope (rows per column) of the ruled lines in ``scaled`` (uint8 ink), or 0.0 where they run
    along the rows or there are none: the shear, within ``rule_max_slant`` degrees, that makes the ink's
    row profile sharpest (tried every ``2 × rule_max_slant / rule_slant_steps`` degrees, then around
    the best at a quarter of that), kept when it beats the unsheared profile by ``rule_slant_gain``.

    >>> ink = np.zeros((200, 400), np.uint8)
    >>> for y0 in (40, 100, 160): _ = cv2.line(ink, (0, y0), (399, y0 + 14), 255, 1)  # 2° off the rows
    >>> round(rule_slant(ink), 3)
    0.035
    """
    mask = (scaled > int(min_contrast * 255)).astype(np.float32)
    # A few hundred pixels show the slant; an integer factor keeps the area resize fast.
    factor = 1.0 / int(np.ceil(max(mask.shape) / params.rule_slant_side))
    small = cv2.resize(mask, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else mask
    h, w = small.shape
    if h < 8 or w < 8 or not small.any():
        return 0.0
    # Each inked pixel's row after a shear, as a histogram: no image is warped (a tenth of the time).
    ys, xs = np.nonzero(small > 0.05)
    weights = small[ys, xs].astype(np.float64)
    centred = xs.astype(np.float64) - w / 2
    limit = np.tan(np.deg2rad(params.rule_max_slant))
    pad = int(np.ceil(limit * w / 2)) + 1

    def sharpness(slope: float) -> float:
        rows = ys + pad - np.rint(slope * centred).astype(np.int64)
        return float((np.bincount(rows, weights, minlength=h + 2 * pad) ** 2).sum())

    # Coarse steps over the whole range, then the neighbourhood of the best at a quarter step.
    step = limit / params.rule_slant_steps
    coarse = np.arange(-params.rule_slant_steps, params.rule_slant_steps + 1, 2) * step
    scores = {float(k): sharpness(k) for k in coarse}
    flat = scores[0.0]
    centre = max(scores, key=scores.get)
    for k in (-1.0, -0.5, 0.5, 1.0):
        slope = centre + k * step
        if abs(slope) <= limit:
            scores[slope] = sharpness(slope)
    best_slope = max(scores, key=scores.get)
    if abs(best_slope) < 1e-9 or scores[best_slope] < params.rule_slant_gain * flat:
        return 0.0
    return best_slope


def _rules_along(scaled: np.ndarray, length: int, piece: int, floor: int,
                 params: SegmentParams) -> np.ndarray:
    """The ink of ``scaled`` (uint8) that runs along its rows for ``length`` px or more: straight runs
    ``piece`` px long (an opening) joined into lines that long, on the rules' slant (``rule_slant``) so
    that a thin rule a degree or two off the rows, or bowed by the lens, is followed all along."""
    h, w = scaled.shape
    slope = rule_slant(scaled, params=params)
    pad = int(abs(slope) * w / 2) + 1 if slope else 0
    forward = np.float32([[1, 0, 0], [-slope, 1, slope * w / 2 + pad]])
    source = cv2.warpAffine(scaled, forward, (w, h + 2 * pad), flags=cv2.INTER_NEAREST) if slope else scaled
    opened = cv2.morphologyEx(source, cv2.MORPH_OPEN, np.ones((1, piece), np.uint8))
    inked = (opened >= max(1, floor)).view(np.uint8)
    if np.count_nonzero(inked.any(axis=0)) < length:  # no component can span a rule's length: most photos
        return np.zeros_like(scaled)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inked, connectivity=8)
    long = np.zeros(count, bool)
    long[1:] = stats[1:, cv2.CC_STAT_WIDTH] >= length
    if not long.any():  # no rule: most photos of digits
        return np.zeros_like(scaled)
    opened[~long[labels]] = 0
    if not slope:
        return opened
    back = cv2.warpAffine(opened, cv2.invertAffineTransform(forward), (w, h), flags=cv2.INTER_NEAREST)
    # Sheared there and back, a rule's rows step by a pixel where the shear rounds: a row either side.
    return cv2.dilate(back, np.ones((3, 1), np.uint8))


def remove_edges(mask: np.ndarray, gray: np.ndarray, *, length_px: float, thin_px: float,
                 step: float = SEGMENT.edge_step, found: tuple | None = None) -> np.ndarray:
    """``mask`` without the edges of the paper: thin straight lines at least ``length_px`` long, at any
    angle, whose two sides differ in brightness by ``step`` or more (a page's edge photographed on a
    desk, the shadow along it, a table's edge). A pen stroke, however long and straight (the 1 or the
    7 of a digit written large), has the same paper on both sides and stays; so does a ruled line
    (``remove_rules`` takes the upright and level ones). Thin: the ink across the line is at most
    ``2 × thin_px`` wide along most of its length.

    >>> gray = np.full((200, 200), 230, np.uint8); gray[:, 100:] = 120                # a page, a desk
    >>> _ = cv2.line(gray, (99, 0), (99, 199), 60, 2); _ = cv2.line(gray, (20, 20), (80, 190), 40, 2)
    >>> mask = (gray < 90).astype(np.uint8)                        # the page's edge and a long stroke
    >>> cleaned = remove_edges(mask, gray, length_px=100, thin_px=2)
    >>> int(cleaned[:, 95:].sum()), int(cleaned[:, :90].sum()) == int(mask[:, :90].sum())
    (0, True)
    """
    # Only components long enough to hold such a line are searched (most pages have none: no cost).
    # ``found``: ``mask``'s components (cv2.connectedComponentsWithStats) where the caller has them.
    count, labels, stats, _ = found or cv2.connectedComponentsWithStats(mask, connectivity=8)
    sides = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    long = np.flatnonzero(sides >= length_px / np.sqrt(2)) + 1
    if long.size == 0:
        return mask
    table = np.zeros(count, np.uint8)
    table[long] = 1
    segments = cv2.HoughLinesP(table[labels], 1, np.pi / 180, threshold=max(10, int(0.5 * length_px)),
                               minLineLength=int(length_px), maxLineGap=3)
    if segments is None:
        return mask
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    erase = np.zeros_like(mask)
    for x1, y1, x2, y2 in segments[:, 0].astype(np.float64):
        if _is_edge(gray, distance, (x1, y1, x2, y2), thin_px, step):
            cv2.line(erase, (int(x1), int(y1)), (int(x2), int(y2)), 1, int(2 * thin_px + 3))
    return cv2.bitwise_and(mask, 1 - erase) if erase.any() else mask


def _is_edge(gray: np.ndarray, distance: np.ndarray, segment: tuple[float, ...], thin_px: float,
             step: float) -> bool:
    """Whether the line ``segment`` (x1, y1, x2, y2) is thin and has unlike brightness on its two sides."""
    x1, y1, x2, y2 = segment
    count = int(max(abs(x2 - x1), abs(y2 - y1))) + 1
    xs, ys = np.linspace(x1, x2, count), np.linspace(y1, y2, count)
    h, w = gray.shape
    nx, ny = -(y2 - y1), x2 - x1
    norm = max(float(np.hypot(nx, ny)), 1e-6)
    nx, ny = nx / norm, ny / norm

    def beside(offset: float) -> tuple[np.ndarray, np.ndarray]:
        return (np.clip((ys + offset * ny).round().astype(int), 0, h - 1),
                np.clip((xs + offset * nx).round().astype(int), 0, w - 1))

    # Thin across its whole width: a line found along the border of a thick stroke is not.
    across = np.max([distance[beside(d)] for d in np.arange(-2 * thin_px, 2 * thin_px + 0.5, 1.0)], axis=0)
    if np.median(across) > thin_px:
        return False
    # The grey a few line widths off it on each side.
    off = 3 * thin_px + 3
    sides = [float(np.median(gray[beside(sign * off)])) for sign in (1, -1)]
    return abs(sides[0] - sides[1]) >= step * max(sides)


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
