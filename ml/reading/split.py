"""Touching and broken digits: where boxes are cut, which runs of pieces could be one digit, and which
partition of a line into digits and non-digits the classifier finds most probable.

1. :func:`cut_pieces` over-segments a box wide enough to hold touching digits at its thinnest columns.
2. :func:`candidates`: every run of neighbouring pieces (and of neighbouring boxes) that could be one
   digit, as :class:`Candidate` runs.
3. The reader classifies each candidate; :func:`choose` keeps, line by line, the most probable
   partition (touching digits split, a broken 5 joined, a blot dropped).

>>> a, b = Box(0, 0, 30, 60), Box(30, 0, 30, 60)
>>> [(c.start, c.end) for c in candidates([a, b], [a.union(b)], [0, 0], [True])]
[(0, 1), (1, 2), (0, 2)]
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from ml.models.config import DIGIT_CLASSES, NOT_A_DIGIT

from .boxes import Box, member
from .lines import line_height
from .params import READER, SEGMENT, ReaderParams, SegmentParams


def cut_pieces(box: Box, ink: np.ndarray, labels: np.ndarray, line_h: float, *,
               params: SegmentParams = SEGMENT) -> list[Box]:
    """Over-segment a box that may hold touching digits: cut it at its thinnest columns.

    Cuts go at the deepest local minima of the box's column ink profile, each piece at least
    ``min_piece`` of a digit height wide. The pieces are only candidates: :func:`choose` decides,
    with the classifier, which runs of them are digits (a wide 0 or 2 is put back together, a
    touching pair stays apart). Returns [] when the box is too narrow to hold two digits.

    >>> rings = np.zeros((50, 80), np.uint8)                                # two touching 0s
    >>> _ = cv2.circle(rings, (22, 25), 15, 255, 4); _ = cv2.circle(rings, (52, 25), 15, 255, 4)
    >>> pieces = cut_pieces(Box(5, 8, 65, 35), rings / 255.0, np.zeros((50, 80), np.int32), 35.0)
    >>> len(pieces), 37 in [p.x for p in pieces]                            # one cut where they touch
    (6, True)
    """
    ref = max(box.h, params.cut_ref * line_h)
    min_piece = max(params.min_piece_px, int(params.min_piece * ref))
    if box.w < params.split_aspect * ref or box.w < 2 * min_piece:
        return []
    region = ink[box.y : box.y2, box.x : box.x2]
    if box.labels:
        region = region * member(labels[box.y : box.y2, box.x : box.x2], box.labels)
    k = max(3, int(ref * params.profile_blur)) | 1
    profile = cv2.blur(region.sum(axis=0, dtype=np.float32).reshape(1, -1), (k, 1)).ravel()
    inner = profile[min_piece : box.w - min_piece + 1]
    if inner.size == 0:
        return []
    most = max(params.max_cuts, round(params.cuts_per_digit * box.w / (params.digit_width * ref)))
    cuts = _deepest_minima(profile, inner, min_piece, most)
    pieces, start = [], 0
    for cut in sorted(cuts) + [box.w]:
        piece = region[:, start:cut]
        rows = np.nonzero(piece.max(axis=1) > 0)[0]
        if len(rows):
            pieces.append(Box(box.x + start, box.y + int(rows[0]), cut - start,
                              int(rows[-1] - rows[0] + 1), list(box.labels), int((piece > 0).sum())))
        start = cut
    return pieces if len(pieces) > 1 else []


def _deepest_minima(profile: np.ndarray, inner: np.ndarray, min_piece: int, most: int) -> list[int]:
    """Up to ``most`` local minima of ``inner`` (= ``profile`` without ``min_piece`` columns at each
    end; plateaus count once), deepest first, each at least ``min_piece`` from those already taken."""
    left = np.r_[np.inf, inner[:-1]]
    right = np.r_[inner[1:], np.inf]
    minima = np.flatnonzero((inner <= left) & (inner < right)) + min_piece
    cuts: list[int] = []
    for c in sorted(minima, key=lambda c: profile[c]):
        if all(abs(c - o) >= min_piece for o in cuts):
            cuts.append(int(c))
        if len(cuts) == most:
            break
    return cuts


def doubtful(p: np.ndarray, *, params: ReaderParams = READER) -> bool:
    """Whether a box read whole might not be one digit: the reject output has a say, or no digit
    is clearly ahead. Only such boxes are cut (clear digits cost nothing more).

    >>> doubtful(np.r_[np.full(10, 0.001), 0.99]), doubtful(np.r_[0.99, np.full(10, 0.001)])
    (True, False)
    """
    return bool(p[NOT_A_DIGIT] > params.doubt_reject or p[:DIGIT_CLASSES].max() < params.doubt_confidence)


class Candidate(NamedTuple):
    """Pieces ``start`` to ``end`` (exclusive) of a line joined into one candidate digit, ``box``."""

    start: int
    end: int
    box: Box
    # Part of a cut box, not all of it: a reading of the pieces, not of anything written as one.
    cut: bool = False
    # Holds the upright of a cross but not both its arms: a piece with flat pieces of its own box on
    # both sides at its middle (a + cut apart), never a digit so (:func:`crossed`).
    cross: bool = False
    # Holds a table grid's upright cut by the image (:func:`cut_rules`) or a sum's slash or bracket: no digit,
    # and that piece alone is dropped at no cost (its crop reads as a confident 1).
    rule: bool = False


def candidates(atoms: list[Box], line: list[Box], parent: list[int] | None = None,
               loose: list[bool] | None = None, *, params: ReaderParams = READER) -> list[Candidate]:
    """Every run of up to ``max_run`` neighbouring pieces of a line that could be one digit.

    ``atoms`` are the line's boxes, with doubtful ones replaced by their cut pieces; ``parent[i]``
    is the index in ``line`` of the box atom ``i`` comes from. A run is a candidate while it stays
    narrower than ``max_width`` line heights, its pieces are no further apart than ``max_gap`` line
    heights and it is not much taller than the line; a run joining different boxes also needs one
    of them to be ``loose`` (doubtful or short) or the two to be almost touching (``join_gap``), so
    two clear digits apart are never read as one. Each box stays a candidate as it is, however many
    pieces it was cut into.

    >>> one, two = Box(0, 0, 14, 60), Box(40, 0, 14, 60)          # two clear 1s, well apart
    >>> [(c.start, c.end) for c in candidates([one, two], [one, two], loose=[False, False])]
    [(0, 1), (1, 2)]
    """
    parent = parent if parent is not None else list(range(len(atoms)))
    loose = loose if loose is not None else [True] * len(line)
    line_h = line_height(line)
    units: list[Candidate] = []
    for i in range(len(atoms)):
        units += _runs_from(i, atoms, parent, loose, line_h, params)
    # Each box whole: its own object, whose probabilities are already known.
    spans = {}
    for k in range(len(line)):
        span = [i for i, p in enumerate(parent) if p == k]
        spans[k] = (span[0], span[-1] + 1)
    wholes = set(spans.values())
    units = [u for u in units if (u.start, u.end) not in wholes]
    cut_box = [spans[parent[i]][1] - spans[parent[i]][0] > 1 for i in range(len(atoms))]
    units = [u._replace(cut=any(cut_box[u.start : u.end])) for u in units]
    units += [Candidate(start, end, box) for (start, end), box in zip(spans.values(), line)]
    return units


def _runs_from(i: int, atoms: list[Box], parent: list[int], loose: list[bool], line_h: float,
               params: ReaderParams) -> list[Candidate]:
    """The candidate runs that start at piece ``i``, shortest first."""
    unit, joins_loose = atoms[i], loose[parent[i]]
    runs = [Candidate(i, i + 1, unit)]
    for j in range(i + 1, min(i + params.max_run, len(atoms))):
        gap = atoms[j].x - unit.x2
        unit = unit.union(atoms[j])
        joins_loose = joins_loose or loose[parent[j]]
        if (gap > params.max_gap * line_h or unit.w > params.max_width * line_h
                or unit.h > params.max_height * line_h):
            break
        joins_loose = joins_loose or (parent[j] != parent[j - 1] and gap <= params.join_gap * line_h)
        if parent[j] != parent[i] and not joins_loose:
            continue
        runs.append(Candidate(i, j + 1, unit))
    return runs


def line_candidates(line: list[Box], whole: list[np.ndarray], *, params: ReaderParams = READER,
                    height: int = 0, operators: set[int] = frozenset()) -> list[Candidate]:
    """The candidates of one line, given each box's probabilities read whole (``whole[k]`` for
    ``line[k]``): doubtful boxes are replaced by their cut pieces, and doubtful or short boxes may
    join their neighbours (a detached bar). The upright of a cut + and, in an image ``height``
    pixels high, a grid's side cut by the image (:func:`cut_rules`) are marked, and so are the boxes
    ``operators`` (indices into ``line``: a sum's division slash, bracket or operator sign,
    :mod:`ml.reading.operators`), each dropped whole as a grid's side is: never cut, never joined.

    >>> one = [Box(0, 0, 30, 60, pieces=[Box(0, 0, 15, 60), Box(15, 0, 15, 60)])]
    >>> [(c.start, c.end) for c in line_candidates(one, [np.r_[np.zeros(10), 1.0]])]
    [(0, 1), (1, 2), (0, 2)]
    """
    line_h = line_height(line)
    shaky = [doubtful(p, params=params) for p in whole]
    loose = [shaky[k] or b.h < params.short * line_h for k, b in enumerate(line)]
    atoms, parent = [], []
    for k, b in enumerate(line):
        parts = b.pieces if b.pieces and shaky[k] and k not in operators else [b]
        atoms += parts
        parent += [k] * len(parts)
    units = candidates(atoms, line, parent, loose, params=params)
    uprights = crossed(atoms, parent, params=params)
    rules = cut_rules(atoms, line_h, height, params=params) if height else set()
    rules |= {i for i, k in enumerate(parent) if k in operators and parent.count(k) == 1}
    # The upright alone, or with one arm (read as a 7 or a 4), is no digit; the whole cross may be.
    units = [u._replace(cross=True) if any(u.start <= i < u.end and not (u.start < i < u.end - 1)
                                           for i in uprights) else u for u in units]
    return [u._replace(rule=True) if any(u.start <= i < u.end for i in rules) else u for u in units]


def cut_rules(atoms: list[Box], line_h: float, height: int, *, params: ReaderParams = READER) -> set[int]:
    """The pieces that are a table grid's uprights cut by the image (``height`` pixels high): thin
    (at most ``frame_side_aspect`` as wide as tall), from within ``rule_reach`` of the image's top to
    within it of its bottom, and ``rule_tall`` line heights or more. A photo cropped to one row of a
    table keeps its cells' sides, as thick as the pen (no hairlines) and too short for the rules' step;
    alone or cut from the digit touching it, each read as a 1.

    >>> atoms = [Box(10, 30, 30, 40), Box(40, 4, 6, 72), Box(60, 32, 30, 38)]
    >>> cut_rules(atoms, 40.0, 80), cut_rules(atoms, 40.0, 160)
    ({1}, set())
    """
    reach = params.rule_reach * height
    side = params.segment.frame_side_aspect
    return {i for i, a in enumerate(atoms) if a.w <= side * a.h and a.y <= reach and a.y2 >= height - reach
            and a.h >= params.rule_tall * line_h}


def crossed(atoms: list[Box], parent: list[int], *, params: ReaderParams = READER) -> set[int]:
    """The pieces that are the upright of a ``+``: cut from the same box as their neighbours on both
    sides, which are flat (at most ``cross_flat`` of its height) and sit in its middle half. Read
    alone, the upright is a 1; a digit cut apart has no such arms (the bar of a 4 or a 7 reaches a
    slanted or tall stroke on one side).

    >>> arm, upright = Box(0, 28, 12, 4), Box(12, 10, 6, 40)
    >>> crossed([arm, upright, Box(18, 30, 12, 4)], [0, 0, 0]), crossed([arm, upright], [0, 0])
    ({1}, set())
    """
    found = set()
    for i in range(1, len(atoms) - 1):
        if not parent[i - 1] == parent[i] == parent[i + 1]:
            continue
        upright = atoms[i]
        arms = (atoms[i - 1], atoms[i + 1])
        if all(a.h <= params.cross_flat * upright.h
               and upright.y + 0.25 * upright.h <= a.cy <= upright.y + 0.75 * upright.h for a in arms):
            found.add(i)
    return found


def printed_words(line: list[Box], whole: list[np.ndarray], *, params: ReaderParams = READER) -> list[int]:
    """The indices of ``line``'s boxes (``whole[k]``: each read whole) that are letters of a printed
    label beside the digits ("Student number:"). Cut apart, a word's letters read as digits (the
    strokes of an m as 1s), and an o reads as a 0 whole. Boxes close together (``text_gap`` line
    heights) are one run; a run is type when at least ``text_letters`` of its boxes, and
    ``text_share`` of them all, read "not a digit" whole (over ``text_reject``), and ``text_letters``
    of those, or of the boxes read as no clear digit (a bold a read as a 2 at 0.5, its neighbours
    touching), stand on one base line and reach one x-line (:func:`_x_height_letters`): the lower-case
    letters of type, which handwritten digits, touching (so "not a digit" whole too) or not, never
    line up as. Its letters
    are then the boxes read "not a digit" and those standing on its base line no taller than
    ``text_cap`` times its tallest letter (the o read as 0, the S read as 5); a digit written after
    the label's colon is taller.

    >>> letter, digit = np.r_[np.full(10, 0.005), 0.95], np.r_[0.96, np.full(10, 0.004)]
    >>> word = [Box(0, 0, 12, 30), Box(14, 4, 10, 26)] + [Box(x, 10, 12, 20) for x in (26, 40, 54, 68)]
    >>> number = [Box(90, -10, 20, 40), Box(115, -10, 20, 40)]              # written after "Stuoen"
    >>> printed_words(word + number, [digit, letter, letter, digit, letter, letter, digit, digit])
    [0, 1, 2, 3, 4, 5]
    >>> pairs = [Box(x, y, 30, 30) for x, y in ((0, 0), (32, 3), (64, 1))]   # touching digits, rejected
    >>> printed_words(pairs, [letter, letter, letter])
    []
    """
    if params.text_letters <= 0 or not line:
        return []
    line_h = line_height(line)
    runs = [[0]]
    for k in range(1, len(line)):
        if line[k].x - line[runs[-1][-1]].x2 <= params.text_gap * line_h:
            runs[-1].append(k)
        else:
            runs.append([k])
    found = []
    for run in runs:
        rejected = [k for k in run if whole[k][NOT_A_DIGIT] > params.text_reject]
        if len(rejected) < params.text_letters or len(rejected) < params.text_share * len(run):
            continue
        # The word's capitals and ascenders, among what does not read as a clear digit.
        unsure = [k for k in run if whole[k][:DIGIT_CLASSES].max() < params.doubt_confidence]
        tallest = max(line[k].h for k in unsure)
        lower = _x_height_letters([line[k] for k in run if k in rejected or k in unsure], tallest, line_h,
                                  params)
        if len(lower) < params.text_letters:
            continue
        base = float(np.median([b.y2 for b in lower]))
        cap = params.text_cap * max(line[k].h for k in rejected)
        reach = 2 * params.text_align * line_h
        found += [k for k in run if k in rejected or (line[k].h <= cap and abs(line[k].y2 - base) <= reach)]
    return found


def _x_height_letters(letters: list[Box], tallest: int, line_h: float, params: ReaderParams) -> list[Box]:
    """The largest group of ``letters`` that stand on one base line and reach one x-line (within
    ``text_align`` line heights), lower than ``tallest`` (at most ``text_x_height`` of it)."""
    reach = params.text_align * line_h
    best: list[Box] = []
    lower = [b for b in letters if b.h <= params.text_x_height * tallest]
    for a in lower:
        same = [b for b in lower if abs(b.y - a.y) <= reach and abs(b.y2 - a.y2) <= reach]
        best = max(best, same, key=len)
    return best


def letter_strokes(line: list[Box], plan: list[Candidate], chosen: list[int], probs: np.ndarray, *,
                   params: ReaderParams = READER) -> list[int]:
    """``chosen`` (indices into ``plan``, read as ``probs``) without the 1s cut from one box of
    ``line`` ``stroke_ones`` or more at a time: the strokes of a letter cut apart (a w or an m of a
    printed label or a word, each stroke a confident 1). Touching digits cut apart are seldom three 1s.

    >>> w = Box(0, 0, 60, 40)
    >>> plan = [Candidate(i, i + 1, Box(15 * i, 0, 12, 40), cut=True) for i in range(4)]
    >>> letter_strokes([w], plan, [0, 1, 2, 3], np.tile(np.eye(11)[1], (4, 1)))
    []
    """
    owned: dict[int, list[int]] = {}
    for k in chosen:
        unit = plan[k]
        owner = next((i for i, b in enumerate(line) if b.x <= unit.box.x and unit.box.x2 <= b.x2), None)
        if unit.cut and owner is not None:
            owned.setdefault(owner, []).append(k)
    strokes = set()
    for ks in owned.values():
        ones = [k for k in ks if int(np.argmax(probs[k][:DIGIT_CLASSES])) == 1]
        if len(ones) >= params.stroke_ones:
            strokes.update(ones)
    return [k for k in chosen if k not in strokes]


def choose(units: list[Candidate], probs: np.ndarray, line_h: float, *,
           params: ReaderParams = READER) -> list[int]:
    """The most probable reading of a line: a partition of its pieces into digits and non-digits.

    Each run of pieces is either a digit, scored by the log-probability of its best digit, or not a
    digit, scored by the log-probability of the reject class; a run much shorter than the line's
    digits pays ``short_penalty`` to be a digit (the detached bar of a 5 is not a 7), unless it reads
    as 0 (``short_zeros``: a small ring is a 0 written small, never a bar). Dynamic
    programming over the pieces finds the best-scoring partition; the indices of the runs read as
    digits are returned, left to right.

    >>> a, b = Box(0, 0, 30, 60), Box(30, 0, 30, 60)
    >>> clear = lambda d: np.eye(11)[d] * 0.97 + 0.003                  # 0.97 on class d
    >>> choose([Candidate(0, 1, a), Candidate(1, 2, b), Candidate(0, 2, a.union(b))],
    ...        np.stack([clear(3), clear(5), clear(10)]), 60)           # the whole is "not a digit"
    [0, 1]
    """
    n = max(u.end for u in units)
    best = np.full(n + 1, -np.inf)
    best[0] = 0.0
    back: list[tuple[int, int, bool] | None] = [None] * (n + 1)
    for k, unit in sorted(enumerate(units), key=lambda e: e[1].end):
        for score, is_digit in _options(unit, probs[k], line_h, params):
            if best[unit.start] + score > best[unit.end]:
                best[unit.end], back[unit.end] = best[unit.start] + score, (unit.start, k, is_digit)
    chosen, j = [], n
    while j > 0:
        i, k, is_digit = back[j]
        if is_digit:
            chosen.append(k)
        j = i
    return chosen[::-1]


def _options(unit: Candidate, p: np.ndarray, line_h: float, params: ReaderParams
             ) -> tuple[tuple[float, bool], ...]:
    """(score, is a digit) of each way ``unit`` may be read, for :func:`choose`."""
    if unit.rule:
        return ((0.0, False),) if unit.end - unit.start == 1 else ()
    short = unit.box.h < params.short * line_h
    digit = float(np.log(max(p[:DIGIT_CLASSES].max(), 1e-9))) + params.digit_cost
    if short and not (params.short_zeros and int(np.argmax(p[:DIGIT_CLASSES])) == 0):
        digit += params.short_penalty
    # Pieces of a cut box read as a faint digit are not one (half a + read as a 4 at 0.15): a cut is
    # for touching digits, each of which reads clearly once apart.
    faint_piece = unit.cut and p[:DIGIT_CLASSES].max() < params.cut_min_confidence
    # Nor is anything far wider than tall (a printed word read whole as a 5).
    no_digit = faint_piece or unit.cross or unit.box.w > params.max_digit_aspect * unit.box.h
    reject = float(np.log(max(p[NOT_A_DIGIT], 1e-9)))
    if not short:
        # Per digit's width it covers: a wide box dropped would take several digits with it.
        widths = unit.box.w / (params.segment.digit_width * line_h)
        reject += params.reject_penalty * max(1.0, widths)
    # Only a single piece or a whole box may be "not a digit": dropping a run of several pieces at
    # once would be a cheap way out of reading the digits among them.
    if unit.end - unit.start == 1 or unit.box.pieces:
        return ((reject, False),) if no_digit else ((digit, True), (reject, False))
    return () if no_digit else ((digit, True),)
