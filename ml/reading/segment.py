"""An image → lines of digit boxes in reading order, plus the ink each digit's crop is cut from.

The pipeline, step by step (each step a function in the module named, so tests and the reading
benchmark can look at each; their numbers are in :mod:`ml.reading.params`):

0. :func:`work_scale`: a probe finds the digits' height; big photos are shrunk (``ink.shrink``) so
   digits are about ``work_height`` px tall; a small image of small digits is enlarged (``_enlarged``).
1. ``ink.ink_map``: grey levels → ink strength in [0, 1], relative to the paper estimated by a
   morphological closing wider than any stroke (so uneven light, shadows and tinted paper drop out),
   with the page's light continued past the image edge so a dim border is not ink;
   ``ink.remove_rules`` then subtracts straight ink much longer than a digit (ruled lines, a margin
   rule, the long sides of a printed box; ``components.frame_sides`` drops the short ones), and
   ``cells.remove_cell_sides`` the sides of a row of cells written one digit to a cell (a form's
   boxes, a comb's ticks).
2. ``ink.binarize``: a global threshold on the ink map (Otsu, clamped so a blank page stays blank),
   with hysteresis so pale stretches joined to firm strokes count; ``components.remove_frames`` then
   takes out the squares drawn round single digits (a form's mark boxes), too short to be rules.
3. ``components.components``: connected components; ``components.group_fragments`` joins a faint
   digit's fragments, ``components.merge_pieces`` a broken digit's pieces that share columns, and
   ``components.is_digit_like`` drops specks and ruled lines by size relative to the typical digit
   height on the page, ``uprights.hairlines`` the cells' lines of a table drawn far finer than the
   digits (erased from what the line reader reads, ``boxes.Segmentation.erase``).
4. ``lines.group_lines``: boxes grouped into lines by vertical overlap, lines top to bottom, digits
   left to right.
5. ``split.cut_pieces``: a box wide enough to hold touching digits is over-segmented at its thinnest
   columns; the reader (``ml.reading.reader``) lets the classifier decide which runs of pieces (and
   of neighbouring boxes) are single digits.
6. ``boxes.Segmentation.crop``: a box's own ink, neighbours masked out, faint ink joined to it taken in.

>>> import numpy as np, cv2
>>> page = np.full((80, 160), 255, np.uint8)
>>> _ = cv2.rectangle(page, (20, 20), (30, 60), 0, -1); _ = cv2.rectangle(page, (90, 20), (110, 60), 0, -1)
>>> [[b.x for b in line] for line in segment(page).lines]
[[20, 90]]
"""

from __future__ import annotations

import cv2
import numpy as np

from .boxes import Box, Segmentation, member
from .cells import remove_cell_sides
from .components import (
    components,
    drop_surround,
    frame_sides,
    group_fragments,
    height_boxes,
    is_digit_like,
    merge_pieces,
    remove_frames,
    small_digits,
    tall_digits,
    typical_height,
)
from .ink import binarize, ink_map, paper_map, remove_edges, remove_rules, shrink, to_gray
from .lines import group_lines, group_rows, level_rules, line_height
from .params import ALL_STEPS, SEGMENT, SegmentParams, Steps
from .separators import find_separators
from .split import cut_pieces
from .uprights import edge_pieces, frame_pieces, hairlines, rule_residue, rule_run_on


def work_scale(gray: np.ndarray, *, params: SegmentParams = SEGMENT) -> tuple[float, float]:
    """How much to shrink ``gray`` so its digits are about ``work_height`` px tall (never enlarged), and
    the digits' height in ``gray``'s pixels.

    A probe at ``probe_side`` px finds the digit height cheaply; a phone photo of a few large digits is
    then segmented at a fraction of its 2 megapixels, while an A4 sheet of small digits keeps its
    resolution. An image no larger than the probe is measured as it is and not shrunk (shrinking such
    small images too measured slightly worse on clean and photo pages). Pages with nothing digit-sized
    at the probe's scale are not shrunk, and their digits are taken to be ``work_height`` px tall.

    >>> page = np.full((1200, 1600), 255, np.uint8); page[400:800, 700:800] = 0   # one 400 px stroke
    >>> work_scale(page)
    (0.1, 400.0)
    """
    scale, digit_h, _, _ = _probe(gray, params)
    return scale, digit_h


def _probe(gray: np.ndarray, params: SegmentParams) -> tuple[float, float, np.ndarray | None, int]:
    """:func:`work_scale`, the paper's estimate (``ink.paper_map``) where the probe saw the image at its
    own size (one small enough is never shrunk): segmenting it then needs no second one, and the side
    of the darkest-pixel filter to run before shrinking, where the strokes are too thin and pale to
    survive it (:func:`_thin_strokes`; 1: none)."""
    h, w = gray.shape
    probe = min(1.0, params.probe_side / max(h, w))
    probed = shrink(gray, probe) if probe < 1 else gray
    near = int(params.probe_near * min(probed.shape))
    paper = paper_map(probed, params=params)
    ink = ink_map(probed, near_px=near, paper=paper, params=params)
    mask = binarize(ink, params=params)
    length = max(params.probe_line * float(np.hypot(*probed.shape)), params.probe_line_min)
    mask = remove_edges(mask, probed, length_px=length, thin_px=params.probe_thin, step=params.edge_step)
    labels, boxes = components(mask, params=params)
    digit_h = typical_height(height_boxes(labels, drop_surround(labels, boxes, params=params), params=params),
                             params=params, floor=params.min_probe_height if params.speck_floor else 0.0)
    whole = paper if probe == 1.0 else None
    if digit_h < params.min_probe_height:  # too small to measure at the probe: keep every pixel
        return 1.0, float(params.work_height), whole, 1
    if probe == 1.0:
        return 1.0, digit_h, whole, 1
    scale = min(1.0, params.work_height / (digit_h / probe))
    scale, side = _thin_strokes(scale, _stroke_ink(ink, labels, boxes, digit_h) / probe, params)
    return scale, digit_h / probe, None, side


def _enlarged(gray: np.ndarray, digits_tall: float, params: SegmentParams) -> bool:
    """Whether ``gray``, kept at its size by the probe, is segmented ``enlarge`` times larger: its digits
    measured under ``enlarge_below`` px tall (and at least ``min_probe_height``, so measured at all),
    the image at most ``enlarge_side`` px long once enlarged. Digits 16 px tall in a photo's crop of a
    register, their strokes one or two pixels, broke apart or merged with the ruled lines they sit on;
    a form's comb fields as small lost their digits to the ticks between them; a register's bold dates
    18 px tall, their digits touching, were cut in the wrong place and their pieces read as no digit.

    >>> page = np.full((100, 200), 255, np.uint8); page[40:54, 50:53] = 0   # a 1, 14 px tall
    >>> _enlarged(page, 14.0, SEGMENT), _enlarged(page, 30.0, SEGMENT)
    (True, False)
    """
    return (params.enlarge > 1 and params.min_probe_height <= digits_tall < params.enlarge_below
            and max(gray.shape) * params.enlarge <= params.enlarge_side)


def _thin_strokes(scale: float, stroke: float, params: SegmentParams) -> tuple[float, int]:
    """The scale to shrink to and the side of the darkest-pixel filter to run first (1: none), for
    strokes ``stroke`` dark across (:func:`_stroke_ink`, image pixels) shrunk by ``scale``.

    Shrinking averages a stroke with the paper beside it: a thin pale one (pencil, a fine pen, a
    one-pixel line drawn on a big canvas) fades into the paper and is lost. Where the strokes would
    be less than ``thin_stroke`` dark across once shrunk, the image is shrunk less (at most
    ``thin_scale`` times the scale) and the darkest pixel of each ``thin_erode`` work pixels taken first.

    >>> _thin_strokes(0.1, 8.0, SEGMENT), _thin_strokes(0.05, 4.0, SEGMENT)
    ((0.1, 1), (0.0875, 11))
    """
    at_work = stroke * scale
    if not params.thin_stroke or at_work >= params.thin_stroke:
        return scale, 1
    boosted = min(1.0, scale * min(params.thin_scale, params.thin_stroke / max(at_work, 1e-6)))
    return boosted, max(1, int(round(params.thin_erode / boosted)) | 1) if params.thin_erode else 1


def _stroke_ink(ink: np.ndarray, labels: np.ndarray, boxes: list[Box], digit_h: float) -> float:
    """The median over the digit-sized components of their strokes' width (twice the 90th percentile
    of the distance to the background) times their mean ink: how dark a stroke is, summed across it."""
    inside = cv2.distanceTransform((labels > 0).view(np.uint8), cv2.DIST_L2, 3)
    values = []
    for b in boxes:
        if 0.6 * digit_h <= b.h <= 1.5 * digit_h:
            sub = labels[b.y : b.y2, b.x : b.x2]
            m = member(sub, b.labels).view(bool) if b.labels else sub > 0
            values.append(2 * np.percentile(inside[b.y : b.y2, b.x : b.x2][m], 90)
                          * float(ink[b.y : b.y2, b.x : b.x2][m].mean()))
    return float(np.median(values)) if values else np.inf


def segment(image: np.ndarray, steps: Steps = ALL_STEPS, *, params: SegmentParams = SEGMENT,
            light_ink: bool = False) -> Segmentation:
    """Find the digits of ``image`` (grey or BGR uint8) as lines of boxes in reading order; with
    ``light_ink``, of light ink on a dark ground (see :func:`ml.reading.ink.polarity`).

    Boxes are in the pixels of the work resolution (see :func:`work_scale`);
    :meth:`Segmentation.image_box` gives them in the image's pixels.

    >>> page = np.full((120, 400), 255, np.uint8)
    >>> for x in (40, 140, 240): _ = cv2.rectangle(page, (x, 30), (x + 12, 90), 0, -1)
    >>> seg = segment(page)
    >>> [seg.image_box(b) for b in seg.lines[0]]
    [[40, 30, 13, 61], [140, 30, 13, 61], [240, 30, 13, 61]]
    """
    if image.size == 0:
        raise ValueError(f"segment got an empty image of shape {image.shape}")
    gray = to_gray(image, params=params)
    if light_ink:
        gray = cv2.bitwise_not(gray)
    probed, digits_tall, paper, thin = _probe(gray, params)
    scale = probed if steps.rescale else 1.0
    if scale < 1.0:
        if thin > 1:
            gray = cv2.erode(gray, np.ones((thin, thin), np.uint8))
        gray, paper = shrink(gray, scale), None
    elif steps.rescale and _enlarged(gray, digits_tall, params):
        scale, paper = params.enlarge, None
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    # The digits' height in the pixels segmented: work_height once shrunk; more in a small image of
    # big digits, which is not shrunk, or without rescaling; never taken as less (rules stay long).
    digit_px = max(float(params.work_height), digits_tall * scale)
    measured = min(digit_px, digits_tall * scale)
    ink, rules, sides = _ink(gray, paper, digit_px, measured, steps, params)
    mask = binarize(ink, hysteresis=steps.hysteresis, params=params)
    found = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if steps.rules:
        framed = remove_frames(mask, found, digit_px, params=params)
        if framed is not mask:
            mask, found = framed, cv2.connectedComponentsWithStats(framed, connectivity=8)
    if steps.edges:
        cleaned = remove_edges(mask, gray, length_px=params.rule_length * digit_px,
                               thin_px=max(1.5, params.straight_thin * digit_px), step=params.edge_step,
                               found=found)
        found, mask = (found if cleaned is mask else None), cleaned
    labels, boxes = components(mask, params=params, found=found)
    if steps.surround:
        boxes = drop_surround(labels, boxes, digit_px, params=params)
    # Specks far smaller than the digits the probe measured never set their height (a dotted grid); where
    # it measured nothing (an image kept whole, its digits taken to be work_height tall) there is no floor.
    floor = params.speck_floor * measured if probed < 1.0 or digits_tall != params.work_height else 0.0
    lines, dropped, hair, digit_h = _lines(boxes, rules, ink, labels, gray, steps, params, floor,
                                           measured=measured if floor else 0.0)
    for line in lines:
        line_h = line_height(line)
        for b in line:
            b.pieces = cut_pieces(b, ink, labels, line_h, params=params) if steps.cut else []
    marks = find_separators(lines, dropped, digit_h, params=params) if steps.separators else []
    return Segmentation(lines, ink, labels, scale, faint=steps.faint, params=params, marks=marks,
                        uprights=hair, cell_sides=sides)


def _ink(gray: np.ndarray, paper: np.ndarray | None, digit_px: float, measured: float, steps: Steps,
         params: SegmentParams) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The ink map of ``gray`` without its rules and its cells' sides, as ``steps`` says; and the mask
    of the rules found (``ink.remove_rules``) and the share of each pixel's ink taken out as cells' sides,
    or None. The cells are as tall as the digits ``measured``, however small (the rules' lengths never
    shrink)."""
    if steps.background:
        near = int(params.paper_near * digit_px)
        paper = paper if steps.edge_trend else None  # the probe's estimate continues the page's edge
        ink = ink_map(gray, edge_trend=steps.edge_trend, near_px=near, paper=paper, params=params)
    else:
        ink = 1.0 - gray.astype(np.float32) / 255
    rules, sides = None, None
    if steps.rules:
        ink, rules = remove_rules(ink, digit_px, measured, params=params)
    if steps.cells:
        before = ink
        ink, sides = remove_cell_sides(ink, measured, rules & 1 if rules is not None else None, params=params)
        if sides is not None:  # a digit's stroke across a side keeps the ink the side did not account for
            taken = np.where(sides > 0, 1.0 - ink / np.maximum(before, 1e-3), 0.0)
            sides = taken.clip(0, 1).astype(np.float32)
    return ink, rules, sides


def digit_height(boxes: list[Box], labels: np.ndarray, *, floor: float = 0.0, measured: float = 0.0,
                 params: SegmentParams = SEGMENT) -> float:
    """The digits' height among the components ``boxes`` (``labels``' boxes; see
    :func:`ml.reading.components.typical_height`, boxes under ``floor`` px left out); measured again on
    :func:`ml.reading.components.height_boxes` where it comes out ``height_over`` times the height the
    probe ``measured`` or more: a notebook's binding at the frame outweighed ten digits 40 px tall and
    was taken for their height (568 px), and the digits were merged with it into four boxes.

    >>> mask = np.zeros((300, 400), np.uint8); mask[:, 370:] = 1             # a dark mass at the frame
    >>> for k in range(4): mask[100:140, 40 + 60 * k : 60 + 60 * k] = 1      # four digits
    >>> labels, boxes = components(mask)
    >>> digit_height(boxes, labels), digit_height(boxes, labels, measured=40.0)
    (300.0, 40.0)
    """
    digit_h = typical_height(boxes, params=params, floor=floor)
    if params.height_over and measured and digit_h > params.height_over * measured:
        digit_h = typical_height(height_boxes(labels, boxes, params=params), params=params, floor=floor)
    return digit_h


def _lines(boxes: list[Box], rules: np.ndarray | None, ink: np.ndarray, labels: np.ndarray, gray: np.ndarray,
           steps: Steps, params: SegmentParams,
           floor: float = 0.0, measured: float = 0.0) -> tuple[list[list[Box]], list[Box], list[Box], float]:
    """The components as lines of digit-like boxes: frames' sides dropped, fragments and broken digits
    joined, specks, ruled lines and cells' hairlines filtered out, as ``steps`` says; and the boxes
    filtered out, the hairlines, and the digits' height (:func:`digit_height`: on boxes at least
    ``floor`` high, against the height the probe ``measured``)."""
    digit_h = digit_height(boxes, labels, floor=floor, measured=measured, params=params)
    if rules is not None:
        boxes = frame_sides(boxes, rules & 1, digit_h, params=params)
    if steps.merge:
        if steps.fragments:
            boxes = group_fragments(boxes, digit_h, params=params)
        boxes = merge_pieces(boxes, digit_h, params=params)
        digit_h = typical_height(boxes, params=params, floor=floor)
    dropped = []
    if steps.filter:
        size = (ink.shape[1], ink.shape[0])
        with_peers = {id(b) for b in tall_digits(boxes, digit_h, params=params)
                      + small_digits(boxes, digit_h, size, params=params)}
        keep = [is_digit_like(b, digit_h, params=params) or id(b) in with_peers for b in boxes]
        dropped = [b for b, k in zip(boxes, keep) if not k]
        boxes = [b for b, k in zip(boxes, keep) if k]
    upright = rules >> 1 if rules is not None else None
    residue = rule_residue(boxes, rules, labels, digit_h, params=params) if steps.rules else []
    if steps.rules:
        ran_on = rule_run_on(boxes, rules, labels, digit_h, params=params)
        residue += [b for b in ran_on if not any(b is r for r in residue)]
    boxes = [b for b in boxes if not any(b is r for r in residue)]
    hair = residue + (hairlines(boxes, ink, labels, upright, params=params) if steps.hairlines else [])
    if steps.edges:
        edges = edge_pieces(boxes, gray, ink, params=params) + frame_pieces(boxes, ink, labels, params=params)
        hair += [b for b in edges if not any(b is h for h in hair)]
    boxes = [b for b in boxes if not any(b is h for h in hair)]
    if steps.rotated_lines:
        level = level_rules(rules, params.rule_length * digit_h, params=params)
        return group_lines(boxes, params=params, level=level), dropped, hair, digit_h
    return group_rows(boxes, digit_h, params=params), dropped, hair, digit_h
