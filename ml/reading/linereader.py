"""A second opinion from the line reader (:mod:`ml.models.linenet`, a CNN + BiLSTM trained with CTC),
which reads a line's crop whole, without cutting it into digits:

- A small image shaped like a strip (a cheque's amount field) is one line whatever the segmenter found
  in it; where the line reader's string differs and its digits are more probable than the segmented
  ones (geometric means), it replaces them.
- In a page, each line with a doubtful digit is read again and compared with the segmented digits box
  by box (:func:`merge_line`): the segmenter reads pages well, so the line reader only confirms,
  overrules a clearly worse digit, cuts a box of touching digits, or drops a blot.

Boxes stay what the annotated image shows: where the line reader keeps the number of digits, each of
its digits takes the segmented box in its place; otherwise a box is cut from the crop's ink around the
column where the line reader read the digit.

>>> from ml.models.linenet import LineRead, ink_strength
>>> old = [Digit(1, 0.4, [10, 10, 20, 40], 0, True), Digit(7, 0.5, [34, 10, 20, 40], 0, True)]
>>> new = _overrule(old, LineRead("14", (0.97, 0.9), (20.0, 44.0)), (0, 0, 80, 60), None, 0, READER)
>>> [(d.digit, d.box, d.uncertain) for d in new]
[(1, [10, 10, 20, 40], False), (4, [34, 10, 20, 40], True)]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml.models.linemodel import LineModel, load_line_model
from ml.models.linenet import LineRead, ink_strength
from ml.paths import LINE_CHECKPOINT

from .params import READER, ReaderParams
from .result import Digit, agreeing

_MODELS: dict[str, LineModel | None] = {}

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels


def default_line_model(path: str | Path = LINE_CHECKPOINT) -> LineModel | None:
    """The shipped line reader, loaded once per process (None where the file is absent: the reader
    then reads with the segmenter alone).

    >>> default_line_model().meta["format"]
    'digitscan-line/1'
    """
    key = str(path)
    if key not in _MODELS:
        _MODELS[key] = load_line_model(path) if Path(path).is_file() else None
    return _MODELS[key]


def is_strip(size: tuple[int, int], params: ReaderParams = READER) -> bool:
    """Whether an image of ``size`` (width, height) is read as one line: low, and wider than high.

    >>> is_strip((175, 58)), is_strip((640, 480)), is_strip((28, 28))
    (True, False, False)
    """
    w, h = size
    return h <= params.strip_height and w >= params.strip_aspect * h


def stacked(digits: list[Digit], params: ReaderParams = READER) -> bool:
    """Whether the segmented ``digits`` hold two lines or more, one above the other, each of at least
    ``stack_digits`` digits read at ``stack_sure`` or more and about as tall as the tallest line's
    (``stack_height``): a strip-shaped crop of a table's rows, not one amount over a pattern's marks.

    >>> row = lambda y, line: [Digit(2, 0.99, [x, y, 20, 30], line, False) for x in (0, 30, 60)]
    >>> stacked(row(0, 0) + row(40, 1)), stacked(row(0, 0) + row(20, 1)), stacked(row(0, 0))
    (True, False, False)
    """
    spans = {}
    for d in digits:
        if d.confidence >= params.stack_sure:
            spans.setdefault(d.line, []).append((d.box[1], d.box[1] + d.box[3]))
    # A line's top and bottom as most of its digits have them (a row written aslant overlaps the next
    # at its ends).
    rows = sorted((float(np.median([a for a, _ in s])), float(np.median([b for _, b in s])))
                  for s in spans.values() if len(s) >= params.stack_digits)
    if len(rows) < 2:
        return False
    tallest = max(b - a for a, b in rows)
    rows = [(a, b) for a, b in rows if b - a >= params.stack_height * tallest]  # not a pattern's marks
    return any(upper[1] <= lower[0] for upper, lower in zip(rows, rows[1:]))


def second_opinion(gray: np.ndarray, digits: list[Digit], model: LineModel, *, light_ink: bool,
                   params: ReaderParams = READER) -> tuple[list[Digit], bool]:
    """``digits`` (the segmented reading of ``gray``) with the line reader's second opinion taken in
    (a strip's string replaced, a doubtful line's digits checked one by one: :func:`merge_line`);
    and whether the image was read as one strip (its digits then all on line 0).

    >>> import cv2
    >>> gray = cv2.cvtColor(cv2.imread("docs/samples/digits.png"), cv2.COLOR_BGR2GRAY)
    >>> second_opinion(gray, [], default_line_model(), light_ink=False)
    ([], False)
    """
    h, w = gray.shape
    if is_strip((w, h), params) and not stacked(digits, params):
        line = sorted(digits, key=lambda d: d.box[0])
        read = model.read([gray], light_ink=light_ink)[0]
        if _better(read, line, params.strip_overrule):
            return _overrule(line, read, (0, 0, w, h), gray, 0, params, light_ink=light_ink), True
        return [_on_line(d, 0) for d in line], True
    groups: dict[int, list[Digit]] = {}
    for d in digits:
        groups.setdefault(d.line, []).append(d)
    doubtful = [k for k, line in groups.items() if min(d.confidence for d in line) < params.line_check_below]
    if not doubtful:
        return digits, False
    regions = [_region(groups[k], (w, h), params) for k in doubtful]
    reads = model.read([gray[y0:y1, x0:x1] for x0, y0, x1, y1 in regions], light_ink=light_ink)
    for k, read, region in zip(doubtful, reads, regions):
        groups[k] = merge_line(groups[k], read, region, gray, params, light_ink=light_ink)
    return [d for k in sorted(groups) for d in groups[k]], False


def merge_line(line: list[Digit], read: LineRead, region: Region, gray: np.ndarray | None,
               params: ReaderParams = READER, *, light_ink: bool = False) -> list[Digit]:
    """One line's segmented digits checked against the line reader's reading of its crop, by place:
    each digit read by the line reader falls in the box whose span holds its column.

    - One digit in a box, the same: confirmed. Another one: it replaces the box's digit when it is
      ``line_margin`` more probable (the classifier and the line reader each err where the other
      does not; both are overconfident, so a small lead is not enough).
    - None in a box: the box's digit is dropped when under ``line_drop_below`` (a blot read as a digit).
    - Several in one box, each at least ``line_sure``, the box itself doubtful and wide enough for
      them (``line_cut_width`` line heights each): touching digits the segmenter left whole; the box
      is cut between them.
    - One in no box: left out. (On photo pages (seed 11) every digit added so was wrong: a page's edge
      or a margin rule read as a 1, or one wide digit read twice.)

    >>> old = [Digit(1, 0.4, [10, 10, 20, 40], 0, True), Digit(7, 0.98, [34, 10, 20, 40], 0, False)]
    >>> new = merge_line(old, LineRead("47", (0.97, 0.9), (20.0, 44.0)), (0, 0, 80, 60), None)
    >>> [(d.digit, d.box, d.uncertain) for d in new]
    [(4, [10, 10, 20, 40], False), (7, [34, 10, 20, 40], False)]
    """
    x0 = region[0]
    chars = [(int(c), p, x0 + centre) for c, p, centre in zip(read.text, read.probs, read.centres)]
    inside: dict[int, list[tuple[int, float, float]]] = {i: [] for i in range(len(line))}
    for char in chars:
        home = [i for i, d in enumerate(line) if d.box[0] <= char[2] < d.box[0] + d.box[2]]
        if home:
            inside[min(home, key=lambda i: abs(line[i].box[0] + line[i].box[2] / 2 - char[2]))].append(char)
    height = float(np.median([d.box[3] for d in line]))
    out = []
    for i, d in enumerate(line):
        found = inside[i]
        if not found:
            if d.confidence >= params.line_drop_below:
                out.append(d)
        elif len(found) == 1:
            out.append(_checked(d, found[0], params))
        elif (d.confidence < params.line_check_below
              and min(p for _, p, _ in found) >= min(params.line_sure, d.confidence + params.line_margin)
              and d.box[2] >= len(found) * params.line_cut_width * height):
            out += _cut(d, found, gray, params, light_ink=light_ink)
        else:
            out.append(d)
    return sorted(out, key=lambda d: d.box[0])


def _checked(d: Digit, char: tuple[int, float, float], params: ReaderParams) -> Digit:
    """A box's digit as the line reader confirms or overrules it."""
    digit, p, _ = char
    if digit == d.digit:
        confidence = max(d.confidence, p)
        return Digit(d.digit, confidence, d.box, d.line, confidence < params.uncertain_below,
                     agreeing(d.digit, confidence, d.alternatives))
    if p >= d.confidence + params.line_margin:
        return Digit(digit, p, d.box, d.line, p < params.uncertain_below, agreeing(digit, p, d.alternatives))
    return d


def _cut(d: Digit, found: list[tuple[int, float, float]], gray: np.ndarray | None, params: ReaderParams, *,
         light_ink: bool) -> list[Digit]:
    """A box holding several digits the line reader read, cut between them."""
    x, y, w, h = d.box
    sub = LineRead("".join(str(c) for c, _, _ in found), tuple(p for _, p, _ in found),
                   tuple(centre - x for _, _, centre in found))
    boxes = _boxes_at(gray, sub, (x, y, x + w, y + h), light_ink=light_ink)
    return [_new_digit(c, p, box, d.line, params.uncertain_below) for (c, p, _), box in zip(found, boxes)]


def _new_digit(digit: int, p: float, box: list[int], line: int, uncertain_below: float) -> Digit:
    return Digit(digit, p, box, line, p < uncertain_below, [{"digit": digit, "confidence": round(p, 4)}])


def _on_line(d: Digit, line: int) -> Digit:
    return Digit(d.digit, d.confidence, d.box, line, d.uncertain, d.alternatives)


def _region(line: list[Digit], size: tuple[int, int], params: ReaderParams) -> Region:
    """The crop the line reader reads: the line's boxes, padded by ``line_pad`` line heights."""
    x0 = min(d.box[0] for d in line)
    y0 = min(d.box[1] for d in line)
    x1 = max(d.box[0] + d.box[2] for d in line)
    y1 = max(d.box[1] + d.box[3] for d in line)
    pad = int(params.line_pad * float(np.median([d.box[3] for d in line])))
    return max(0, x0 - pad), max(0, y0 - pad), min(size[0], x1 + pad), min(size[1], y1 + pad)


def _better(read: LineRead, line: list[Digit], threshold: float) -> bool:
    """Whether the line reader's string should replace the segmented one: it differs, and its digits
    are at least ``threshold`` probable and more probable than the segmented ones, each on the
    geometric mean (a product would favour whichever reads fewer digits: on the cheque folds the mean
    read 0.1–0.2 points more digits right)."""
    if not read.text or read.text == "".join(str(d.digit) for d in line):
        return False
    ours = _mean_probability(read.probs)
    return ours >= threshold and ours > _mean_probability([d.confidence for d in line])


def _mean_probability(probs) -> float:
    """The geometric mean of ``probs`` (0 for none).

    >>> round(_mean_probability([0.9, 0.4]), 2), _mean_probability([])
    (0.6, 0.0)
    """
    return float(np.exp(np.mean(np.log(np.maximum(probs, 1e-6))))) if len(probs) else 0.0


def _overrule(line: list[Digit], read: LineRead, region: Region, gray: np.ndarray | None, line_no: int,
              params: ReaderParams, *, light_ink: bool = False) -> list[Digit]:
    """The line reader's digits, on the segmented boxes where their number is the same, else on
    boxes cut from the crop's ink around where each was read."""
    if len(read.text) == len(line):
        boxes = [d.box for d in sorted(line, key=lambda d: d.box[0])]
    else:
        boxes = _boxes_at(gray, read, region, light_ink=light_ink)
    return [_new_digit(int(c), p, box, line_no, params.strip_uncertain_below)
            for c, p, box in zip(read.text, read.probs, boxes)]


def _boxes_at(gray: np.ndarray | None, read: LineRead, region: Region, *, light_ink: bool) -> list[list[int]]:
    """A box per digit read: the crop split half-way between neighbouring digits' columns, each part's
    ink bounding box (the part itself where it has no ink)."""
    x0, y0, x1, y1 = region
    crop = gray[y0:y1, x0:x1] if gray is not None else np.zeros((y1 - y0, x1 - x0), np.uint8)
    ink = ink_strength(crop, light_ink=light_ink) > 0.5  # at least half as dark as the darkest strokes
    centres = list(read.centres)
    cuts = [0] + [int((a + b) / 2) for a, b in zip(centres, centres[1:])] + [crop.shape[1]]
    boxes = []
    for a, b in zip(cuts, cuts[1:]):
        ys, xs = np.nonzero(ink[:, a:b])
        if len(xs):
            boxes.append([x0 + a + int(xs.min()), y0 + int(ys.min()), int(xs.max() - xs.min() + 1),
                          int(ys.max() - ys.min() + 1)])
        else:
            boxes.append([x0 + a, y0, max(b - a, 1), y1 - y0])
    return boxes
