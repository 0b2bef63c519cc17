"""read(image) → :class:`~ml.reading.result.Reading`: segment, classify every box, and with a model that
has the "not a digit" output, cut the boxes it doubts and choose the most probable digits line by line.

>>> import numpy as np
>>> reading = read(np.full((60, 60, 3), 255, np.uint8))
>>> reading.text, reading.to_dict()["digits"]
('', [])
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ml.models.checkpoint import LoadedModel, load_checkpoint
from ml.models.config import DIGIT_CLASSES, NOT_A_DIGIT
from ml.models.linemodel import LineModel
from ml.models.preprocess import batch_to_mnist
from ml.paths import DEFAULT_CHECKPOINT

from .boxes import Box, Segmentation
from .colour import dropout_gray
from .columns import split_columns
from .components import rim_labels
from .decode import decode_image
from .ink import DARK_INK, EITHER, LIGHT_INK, polarity, to_gray
from .linereader import default_line_model, second_opinion
from .lines import line_height
from .operators import operator_strokes
from .params import ALL_STEPS, READER, ReaderParams, Steps
from .result import Digit, Reading, Separator
from .segment import segment
from .split import choose, letter_strokes, line_candidates, printed_words
from .uprights import darkness, ink_width

_MODELS: dict[str, LoadedModel] = {}

# The work one image may cost: at most this many boxes found. A page of numbers holds a few hundred
# (the densest real sheet here, 250); a 5000 × 5000 image tiled with small digits held 17,000, and
# classifying them took 30 s of one worker. Over the budget, read() stops after segmenting (a few
# seconds at most) with :class:`TooDenseError`, which says so, rather than read part of the image.
MAX_BOXES = 2000


class TooDenseError(ValueError):
    """The image holds more digit-like marks than one reading may take (:data:`MAX_BOXES`)."""


def default_model() -> LoadedModel:
    """The shipped checkpoint, loaded once per process.

    >>> default_model().family
    'cnn'
    """
    key = str(DEFAULT_CHECKPOINT)
    if key not in _MODELS:
        _MODELS[key] = load_checkpoint(DEFAULT_CHECKPOINT)
    return _MODELS[key]


def _as_array(image: np.ndarray | bytes | str | Path) -> np.ndarray:
    if isinstance(image, (str, Path)):
        return decode_image(Path(image).read_bytes())
    if isinstance(image, (bytes, bytearray)):
        return decode_image(bytes(image))
    return np.asarray(image)


def read(image: np.ndarray | bytes | str | Path, *, model: LoadedModel | None = None,
         steps: Steps = ALL_STEPS, params: ReaderParams = READER,
         line_model: LineModel | None = None, max_boxes: int = MAX_BOXES) -> Reading:
    """Find and classify every digit of ``image`` (a BGR/grey array, image bytes or a path).

    Every box found is classified whole, in one batch. With a model that has the "not a digit"
    output, boxes it doubts (see :func:`ml.reading.split.doubtful`) are then cut into pieces; runs of
    those pieces and of neighbouring boxes are classified in a second batch, and line by line the
    reading the classifier finds most probable is chosen (see :func:`ml.reading.split.choose`). Light
    ink on a dark ground is read as such (:func:`ml.reading.ink.polarity`); where the image does not
    tell, it is read both ways and the more confident reading kept. Doubtful lines, and a small
    strip-shaped image whole, are read again by the line reader (``line_model``, by default the
    shipped one; see :mod:`ml.reading.linereader`). The image is not modified. An image with more
    than ``max_boxes`` boxes raises :class:`TooDenseError` once segmented.

    >>> reading = read("docs/samples/digits.png")
    >>> reading.line_texts, reading.digits[0].box, reading.digits[0].uncertain
    (['75013', '20261125', '4096'], [40, 47, 53, 58], False)
    >>> import cv2
    >>> white_on_black = cv2.bitwise_not(cv2.imread("docs/samples/digits.png"))
    >>> read(white_on_black).line_texts
    ['75013', '20261125', '4096']
    """
    t0 = time.perf_counter()
    array = _as_array(image)
    model = model or default_model()
    t1 = time.perf_counter()
    gray = to_gray(array, params=params.segment)
    if steps.dropout:
        red = dropout_gray(array, params=params.segment)
        gray = gray if red is None else red
    way = polarity(gray, params=params.segment) if steps.polarity else DARK_INK
    ways = [False, True] if way == EITHER else [way == LIGHT_INK]
    readings = [(_read_one_way(gray, model, steps, params, light_ink=light, max_boxes=max_boxes), light)
                for light in ways]
    (digits, separators, seg_ms, (seg, erased)), light = max(
        readings, key=lambda r: _certainty(r[0][0], params))
    lines = (line_model or default_line_model()) if steps.lines else None
    strip = False  # read whole as one line by the line reader (a cheque's amount): never split
    if lines is not None:
        # What the segmenter told from digits (cells' lines, printed labels) the line reader would
        # read as digits again: it reads the image without them.
        cleaned = seg.erase(gray, erased)
        digits, strip = second_opinion(cleaned, digits, lines, light_ink=light, params=params)
        if strip:
            separators = [Separator(s.char, s.box, 0) for s in separators]
    if steps.columns and not strip:
        digits, separators = split_columns(digits, separators, params=params)
    t2 = time.perf_counter()
    timings = {"decode": (t1 - t0) * 1e3, "segment": seg_ms, "classify": (t2 - t1) * 1e3 - seg_ms}
    return Reading(digits, (array.shape[1], array.shape[0]), model.name,
                   {k: round(v, 2) for k, v in timings.items()}, separators)


OneWay = tuple[list[Digit], list[Separator], float, tuple[Segmentation, list[Box]]]


def _read_one_way(gray: np.ndarray, model: LoadedModel, steps: Steps, params: ReaderParams, *,
                  light_ink: bool, max_boxes: int = MAX_BOXES) -> OneWay:
    """The digits and separators of ``gray`` read with the ink taken as light (or dark), the ms
    segmenting took, and the segmentation with the boxes it told from digits that still look like
    them (thin uprights, printed words), for :meth:`Segmentation.erase`."""
    start = time.perf_counter()
    seg = segment(gray, steps, params=params.segment, light_ink=light_ink)
    seg_ms = (time.perf_counter() - start) * 1e3
    if len(seg.boxes) > max_boxes:
        raise TooDenseError(f"the image holds about {len(seg.boxes):,} digit-like marks; one reading takes "
                            f"at most {max_boxes:,}: crop it into parts and send each")
    whole = _classify(model, seg, seg.boxes)
    words: list[Box] = []
    if model.classifier.outputs == NOT_A_DIGIT + 1 and steps.choose:
        digits, line_of, words = _chosen_digits(model, seg, whole, params, words=steps.words)
    else:
        digits, line_of = _whole_digits(seg, whole, params), list(range(len(seg.lines)))
    separators = [Separator(mark.char, seg.image_box(mark.box), line_of[k])
                  for k, marks in enumerate(seg.marks) if line_of[k] is not None for mark in marks]
    return digits, separators, seg_ms, (seg, seg.uprights + words)


def _certainty(digits: list[Digit], params: ReaderParams) -> tuple[int, float]:
    """How sure a reading is: its digits read clearly, then their mean confidence (to pick one of the
    two readings of an image whose ink could be light or dark)."""
    clear = sum(d.confidence >= params.uncertain_below for d in digits)
    return clear, float(np.mean([d.confidence for d in digits])) if digits else 0.0


def _whole_digits(seg: Segmentation, whole: np.ndarray, params: ReaderParams) -> list[Digit]:
    """Every box as one digit (a ten-class model, or the ablation without the classifier's choice)."""
    digits, k = [], 0
    for line_no, line in enumerate(seg.lines):
        for box in line:
            digits.append(_digit(seg, box, whole[k], line_no, params))
            k += 1
    return digits


def _chosen_digits(model: LoadedModel, seg: Segmentation, whole: np.ndarray, params: ReaderParams, *,
                   words: bool = True) -> tuple[list[Digit], list[int | None], list[Box]]:
    """Set printed words aside, cut what the model doubts, classify the new candidates in one batch,
    choose line by line; the digits, for each line of ``seg`` the reading's line it became (None: no
    digit in it), and the printed words' boxes."""
    known = {id(b): p for b, p in zip(seg.boxes, whole)}
    printed, lines = [], []
    for line in seg.lines:
        text = set(printed_words(line, [known[id(b)] for b in line], params=params)) if words else set()
        printed += [b for k, b in enumerate(line) if k in text]
        lines.append([b for k, b in enumerate(line) if k not in text])
    height = seg.ink.shape[0]
    plans = []
    for line in lines:
        whole_line = [known[id(b)] for b in line]
        operators = operator_strokes(seg, line, whole_line, params=params) if line else set()
        plans.append(line_candidates(line, whole_line, params=params, height=height, operators=operators)
                     if line else [])
    fresh = [u.box for plan in plans for u in plan if id(u.box) not in known]
    known.update(zip(map(id, fresh), _classify(model, seg, fresh)))
    picked: list[list[tuple[Box, np.ndarray]]] = []
    for line, plan in zip(lines, plans):
        if not plan:
            picked.append([])
            continue
        probs = np.stack([known[id(u.box)] for u in plan])
        chosen = letter_strokes(line, plan, choose(plan, probs, line_height(line), params=params), probs,
                                params=params)
        picked.append([(plan[k].box, probs[k]) for k in chosen])
    _read_heads(model, seg, picked, params)
    rim = rim_labels(seg.labels, params.segment.rim_band)
    picked = faint_strays([edge_strays(line, rim, params=params) for line in picked], seg.ink, seg.labels,
                          params=params)
    stray = stray_lines(picked, params=params) | corner_lines(picked, seg.ink.shape[::-1], params=params)
    digits, line_of, line_no = [], [], 0
    for k, line_digits in enumerate(picked):
        if not line_digits or k in stray:  # a line of marks only (a ruled line's pieces) is no line of digits
            line_of.append(None)
            continue
        digits += [_digit(seg, box, p, line_no, params) for box, p in line_digits]
        line_of.append(line_no)
        line_no += 1
    return digits, line_of, printed


def stray_lines(picked: list[list[tuple[Box, np.ndarray]]], *, params: ReaderParams) -> set[int]:
    """The lines (of digits ``picked``: box and probabilities) that are marks, not digits: under
    ``stray_height`` of the tallest line's height (medians of their boxes') and read at under
    ``stray_confidence`` (the median of their digits' top probability): a form's tick boxes and small
    print below its fields, read as a line of doubtful 4s and 7s. Small digits written clearly stay.

    >>> clear, doubt = np.r_[0.97, np.zeros(10)], np.r_[0.3, 0.2, np.zeros(9)]
    >>> big, small = [(Box(0, 0, 20, 40), clear)] * 3, [(Box(0, 60, 8, 12), doubt)] * 4
    >>> written = [(Box(0, 60, 8, 12), clear)] * 4                      # small digits, read clearly
    >>> stray_lines([big, small], params=READER), stray_lines([big, written], params=READER)
    ({1}, set())
    """
    heights = [float(np.median([b.h for b, _ in line])) if line else 0.0 for line in picked]
    tallest = max(heights, default=0.0)
    return {k for k, line in enumerate(picked) if line and heights[k] < params.stray_height * tallest
            and float(np.median([p[:DIGIT_CLASSES].max() for _, p in line])) < params.stray_confidence}


def corner_lines(picked: list[list[tuple[Box, np.ndarray]]], size: tuple[int, int], *,
                 params: ReaderParams) -> set[int]:
    """The lines (of digits ``picked``, in an image ``size`` = (width, height)) that are one box in a
    corner of the image, reaching two adjacent edges, with ``corner_others`` digits or more elsewhere:
    a sheet photographed on a desk leaves a patch of desk in a corner, read as a doubtful 7 or 3 on a
    line of its own. A tight crop's digits touch its edges too, but share their line.

    >>> clear = np.r_[0.0, 0.97, np.zeros(9)]
    >>> digits = [(Box(x, 100, 20, 40), clear) for x in (100, 130, 160)]
    >>> corner_lines([[(Box(280, 0, 20, 30), clear)], digits], (300, 300), params=READER)
    {0}
    >>> corner_lines([[(Box(280, 0, 20, 30), clear)], digits[:2]], (300, 300), params=READER)   # too few
    set()
    """
    if not params.corner_others or sum(len(line) for line in picked) - 1 < params.corner_others:
        return set()
    width, height = size

    def in_corner(b: Box) -> bool:
        return (b.x <= 0 or b.x2 >= width) and (b.y <= 0 or b.y2 >= height)

    return {k for k, line in enumerate(picked) if len(line) == 1 and in_corner(line[0][0])}


def one_or_doubted(p: np.ndarray, params: ReaderParams) -> bool:
    """Whether ``p`` reads a 1 or no digit at ``uncertain_below``, as a rule's piece or the grain is read.

    >>> one, zero = np.r_[0.0, 0.97, np.zeros(9)], np.r_[0.97, np.zeros(10)]
    >>> one_or_doubted(one, READER), one_or_doubted(zero, READER)
    (True, False)
    """
    return int(np.argmax(p[:DIGIT_CLASSES])) == 1 or bool(p[:DIGIT_CLASSES].max() < params.uncertain_below)


def edge_strays(line: list[tuple[Box, np.ndarray]], rim: set[int], *,
                params: ReaderParams) -> list[tuple[Box, np.ndarray]]:
    """``line`` (digits picked: box and probabilities) without the boxes whose ink reaches the image's
    edge (one of their labels in ``rim``: ``components.rim_labels``), ``edge_tall`` times as tall as the
    line's other digits (their median) or more and read as 1 or under ``uncertain_below``, with
    ``corner_others`` digits or more besides: the corner of another sheet or the desk beside the line,
    a grid's line cut by the frame, read as a 1. A tight crop's big digit is read clearly as itself.

    >>> clear, doubt = np.r_[0.0, 0.97, np.zeros(9)], np.r_[0.0, 0.0, 0.6, np.zeros(8)]
    >>> digits = [(Box(x, 100, 20, 40, [k + 2]), clear) for k, x in enumerate((100, 130, 160))]
    >>> [b.x for b, _ in edge_strays([(Box(0, 60, 40, 120, [1]), doubt)] + digits, {1}, params=READER)]
    [100, 130, 160]
    >>> two = np.r_[0.0, 0.0, 0.97, np.zeros(8)]                      # a tall 2 read clearly stays
    >>> len(edge_strays([(Box(0, 60, 40, 120, [1]), two)] + digits, {1}, params=READER))
    4
    """
    if not params.edge_tall or len(line) - 1 < max(1, params.corner_others):
        return line

    def stray(k: int) -> bool:
        box, p = line[k]
        others = float(np.median([b.h for j, (b, _) in enumerate(line) if j != k]))
        return (any(label in rim for label in box.labels) and box.h >= params.edge_tall * others
                and one_or_doubted(p, params))

    return [entry for k, entry in enumerate(line) if not stray(k)]


def faint_strays(picked: list[list[tuple[Box, np.ndarray]]], ink: np.ndarray, labels: np.ndarray, *,
                 params: ReaderParams) -> list[list[tuple[Box, np.ndarray]]]:
    """The digits ``picked`` (box and probabilities, line by line) without those drawn far finer and
    paler than the digits read surely (see ``ReaderParams.faint_width``): grid paper's lines and grain,
    a form's printed hairlines, read as confident 1s or doubtful 8s (strokes 0.2-0.5 as wide and
    0.25-0.65 as dark as the written digits'; the sure 1s are no measure, grid paper's lines being
    among them). Each line is measured against its own sure digits where it has ``faint_line_peers``
    (a line written in pencil among lines in ink keeps its 1s), else against the image's. A pale digit
    read clearly as itself stays; so does every digit of a reading without ``faint_peers`` sure ones,
    or where the faint ones are under ``faint_share`` of the digits.

    >>> ink = np.zeros((60, 200), np.float32); labels = np.zeros((60, 200), np.int32)
    >>> sure, one = np.r_[0.0, 0.0, 0.97, np.zeros(8)], np.r_[0.0, 0.97, np.zeros(9)]
    >>> line = [(Box(10 + 40 * k, 10, 4, 40, [k + 1]), sure) for k in range(3)]
    >>> line.append((Box(170, 5, 1, 50, [4]), one))                   # grid paper's line, read as 1
    >>> above = [(Box(10 + 15 * k, 0, 4, 8, [k + 5]), sure) for k in range(10)]   # ten more sure digits
    >>> for box, _ in line + above:
    ...     ink[box.y : box.y2, box.x : box.x2] = 0.8 if box.w > 1 else 0.3
    ...     labels[box.y : box.y2, box.x : box.x2] = box.labels[0]
    >>> [b.x for b, _ in faint_strays([line], ink, labels, params=READER)[0]]
    [10, 50, 90]
    >>> len(faint_strays([above, line], ink, labels, params=READER)[1])      # one faint 1 in 14: a writer's
    4
    """
    def sure(line: list[tuple[Box, np.ndarray]]) -> list[Box]:
        return [b for b, p in line
                if p[:DIGIT_CLASSES].max() >= params.faint_sure and not one_or_doubted(p, params)]

    total = sum(map(len, picked))
    doubted = sum(one_or_doubted(p, params) for line in picked for _, p in line)
    everywhere = [b for line in picked for b in sure(line)]
    if not params.faint_width or len(everywhere) < params.faint_peers or doubted < params.faint_share * total:
        return picked
    measured: dict[int, tuple[float, float]] = {}

    def measure(box: Box) -> tuple[float, float]:
        if id(box) not in measured:
            measured[id(box)] = (ink_width(ink, labels, box), darkness(ink, labels, box))
        return measured[id(box)]

    faint = set()
    for line in picked:
        own = sure(line)
        widths, darks = zip(*map(measure, own if len(own) >= params.faint_line_peers else everywhere))
        width = params.faint_width * float(np.median(widths))
        dark = params.faint_dark * float(np.median(darks))
        faint |= {id(b) for b, p in line
                  if one_or_doubted(p, params) and measure(b)[0] < width and measure(b)[1] < dark}
    if len(faint) < params.faint_share * total:
        return picked
    return [[(b, p) for b, p in line if id(b) not in faint] for line in picked]


def long_tails(picked: list[list[tuple[Box, np.ndarray]]], *,
               params: ReaderParams) -> list[tuple[int, int, Box]]:
    """(line, digit, head box) for the digits ``picked`` (box and probabilities, line by line) to read
    again from their head: ``tail_tall`` line heights tall or more (the line's median), their top level
    with the others' (``tail_top``), read under ``tail_sure``, in a line of three digits or more. A
    writer's long-stemmed 7 shrinks to a 1 with a short bar when read whole; its head is a 7.

    >>> clear, doubt = np.r_[0.0, 0.97, np.zeros(9)], np.r_[0.0, 0.5, np.zeros(5), 0.45, 0, 0, 0]
    >>> line = [(Box(x, 10, 20, 40), clear) for x in (0, 30, 60)]
    >>> [(k, j, head.h) for k, j, head in long_tails([line + [(Box(90, 12, 20, 90), doubt)]], params=READER)]
    [(0, 3, 48)]
    >>> sure, above = (Box(90, 12, 20, 90), clear), (Box(90, -30, 20, 90), doubt)   # read clearly; a tall 6
    >>> long_tails([line + [sure], line + [above]], params=READER)
    []
    """
    found = []
    for k, line in enumerate(picked):
        if not params.tail_tall or len(line) < 3:
            continue
        line_h = float(np.median([b.h for b, _ in line]))
        for j, (b, p) in enumerate(line):
            top = float(np.median([o.y for i, (o, _) in enumerate(line) if i != j]))
            if (b.h >= params.tail_tall * line_h and p[:DIGIT_CLASSES].max() < params.tail_sure
                    and b.y >= top - params.tail_top * line_h):
                head = Box(b.x, b.y, b.w, int(round(params.tail_head * line_h)), list(b.labels))
                found.append((k, j, head))
    return found


def _read_heads(model: LoadedModel, seg: Segmentation, picked: list[list[tuple[Box, np.ndarray]]],
                params: ReaderParams) -> None:
    """Read the long-stemmed digits of ``picked`` (:func:`long_tails`) again from their head, in one
    batch; a head read as a digit at ``tail_sure`` or more, and surer than the whole, replaces its
    probabilities (the box stays whole)."""
    tails = long_tails(picked, params=params)
    for (k, j, _), q in zip(tails, _classify(model, seg, [head for _, _, head in tails])):
        box, p = picked[k][j]
        sure = max(params.tail_sure, p[:DIGIT_CLASSES].max())
        if q.argmax() < DIGIT_CLASSES and q[:DIGIT_CLASSES].max() >= sure:
            picked[k][j] = (box, q)


def _classify(model: LoadedModel, seg: Segmentation, boxes: list[Box]) -> np.ndarray:
    if not boxes:
        return np.zeros((0, model.classifier.outputs), np.float32)
    crops = batch_to_mnist([seg.crop(b) for b in boxes])
    return model.predict_proba(torch.from_numpy(crops))


def _digit(seg: Segmentation, box: Box, p: np.ndarray, line_no: int, params: ReaderParams) -> Digit:
    order = np.argsort(p[:DIGIT_CLASSES])[::-1][:3]
    confidence = float(p[order[0]])
    return Digit(digit=int(order[0]), confidence=confidence, box=seg.image_box(box), line=line_no,
                 uncertain=confidence < params.uncertain_below,
                 alternatives=[{"digit": int(k), "confidence": round(float(p[k]), 4)} for k in order])
