"""Every number the reader is tuned by, as frozen dataclasses (the steps' switches: ``.steps``).

The functions of ``ml.reading`` take these as parameters instead of reading module globals, so a test
or an experiment that wants other values passes other parameters (``dataclasses.replace``). Lengths
are in *digit heights* (the page's typical digit height, measured by ``typical_height``) or *line
heights* (the median box height of one line) unless the name says pixels. Where a value was measured,
the comment gives the measurement (figures: ``docs/results/reading.md``, photo and clean pages of
500, scenes of 300); "not tuned" marks a value chosen by eye on the first pages and not revisited.

>>> from dataclasses import replace
>>> replace(ReaderParams(), max_run=4).max_run, SegmentParams().work_height
(4, 40)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .segment_params import SegmentParams
from .steps import ALL_STEPS, Steps

__all__ = ["ALL_STEPS", "READER", "SEGMENT", "ReaderParams", "SegmentParams", "Steps"]


@dataclass(frozen=True)
class ReaderParams:
    """The reader's numbers: which runs of pieces are candidates, how a line's partition is scored,
    when a digit is uncertain (``ml.reading.split``, ``ml.reading.reader``)."""

    # Digits whose top probability is below this are marked uncertain (orange box, "?"). Calibrated on
    # the seed-11 photo pages: 2.9 % of digits flagged, 63 % of the misread ones among them (0.80
    # flags 2.0 % and catches 58 %, 0.90 flags 4.9 % and catches 68 %).
    uncertain_below: float = 0.85
    # Candidate digits are runs of at most ``max_run`` pieces (with the finer cuts a digit may be cut
    # into several), at most ``max_width`` line heights wide (a wide 0 touching a 3) and
    # ``max_height`` tall, with gaps of at most ``max_gap`` line heights between their pieces.
    max_run: int = 6
    max_width: float = 1.6
    max_height: float = 1.6
    max_gap: float = 0.25
    # Boxes closer than this many line heights may be read as one digit even when both read clearly
    # on their own: the two strokes of a thin 4 broken apart each read as a confident 1 (a test).
    join_gap: float = 0.1
    # A box read whole is cut into pieces only when "not a digit" gets more than ``doubt_reject`` or
    # its best digit less than ``doubt_confidence`` (cutting boxes that read clearly lost 0.02–0.09
    # points on every set).
    doubt_reject: float = 0.15
    doubt_confidence: float = 0.85
    # A candidate shorter than ``short`` line heights pays log(``short_prior``) to be a digit: the
    # detached bar of a 5 is not a 7 (a test).
    short: float = 0.55
    short_prior: float = 0.2
    # ... but not a short candidate read as 0: a ring is never a detached bar or arm, and some writers
    # make their 0s small (a third to a half of their digits' height, as an o): with the prior, the
    # reject output's 0.1-0.5 on a small ring in a low-resolution photo dropped it (rmmhr_1, rollno_1;
    # False: every short candidate pays).
    short_zeros: bool = True
    # Every digit read costs log(``digit_prior``), so a box is split into more digits only when the
    # pieces read clearly better than the whole (the two halves of a 0 both look like 1s); log 0.5
    # and log 0.8 measured no better.
    digit_prior: float = 0.6
    # A candidate of digit height pays log(``reject_prior``) per digit width to be "not a digit": on a
    # page of numbers most such things are digits, and dropping a box must not be a cheap way out of
    # reading two touching digits.
    reject_prior: float = 0.1
    # A run of a cut box's pieces (not the whole box) is a digit only when read at this confidence or
    # more: the arms of a + or × cut apart were read as 4s and 7s under 0.2, the halves of a × as tall
    # as the digits as 7 (0.63) and 6 (0.34). At 0.4 rather than 0.3: real-photos-new 94.24 → 94.92 %
    # of digits, -fresh 80.93 → 82.20 %, -dev 92.23 → 92.49 %, -more 96.00 → 96.08 %, -forms 93.09 →
    # 92.55 %; photo pages (seed 8123) 98.93 → 98.89 %, clean 99.56 % (0.5 lost 0.09 on photo pages).
    cut_min_confidence: float = 0.4
    # ... and the 1s of a box cut into ``stroke_ones`` or more 1s are a letter's strokes (a w or an m;
    # split.letter_strokes).
    stroke_ones: int = 3
    # A line under ``stray_height`` of the tallest line's height whose digits read at a median under
    # ``stray_confidence`` is marks, not digits (reader.stray_lines; 0: off).
    stray_height: float = 0.5
    stray_confidence: float = 0.5
    # A line of one digit whose box reaches two adjacent edges of the image (a corner), in an image of
    # ``corner_others`` digits or more besides, is the desk or a shadow in the frame's corner, not a
    # digit (reader.corner_lines; 0: off). A tight crop's first digit shares its line with the others.
    corner_others: int = 3
    # A box of a line whose ink reaches the image's edge, ``edge_tall`` times the line's other digits'
    # height or more, read as 1 or under ``uncertain_below``, is another sheet's corner in the frame or
    # a grid's line cut by it (reader.edge_strays; 0: off).
    edge_tall: float = 2.0
    # A digit read as 1 or under ``uncertain_below`` whose strokes are thinner than ``faint_width``
    # and paler than ``faint_dark`` of the digits read at ``faint_sure`` or more and not as 1 (the
    # medians of their ``uprights.ink_width`` and ``uprights.darkness``: over its line's where it has
    # ``faint_line_peers`` of them, else over the image's, ``faint_peers`` or more) is the paper's own:
    # grid paper's lines, its grain, a form's printed hairlines (reader.faint_strays; 0: off). Only
    # where they are ``faint_share`` of the digits or more: the paper's pattern recurs, while a
    # writer's single pale 1 among 80 digits (a scene page's pencil) is a digit. 0.55 / 0.6 rather
    # than 0.55 / 0.75: a faint 3 among bold digits on a real photo (0.54 / 0.69) and pale MNIST 1s
    # and a 9 on photo pages (0.18-0.37 / 0.64-0.68) stay; the paper's ink measured 0.2-0.5 /
    # 0.25-0.65.
    faint_width: float = 0.55
    faint_dark: float = 0.6
    faint_sure: float = 0.9
    faint_peers: int = 3
    faint_line_peers: int = 2
    faint_share: float = 0.1
    # A digit ``tail_tall`` line heights tall or more, its top level with the line's (within ``tail_top``
    # line heights of the others' median top: a tail below, nothing above), read under ``tail_sure``, is
    # read again from its head, its top ``tail_head`` line heights; that reading replaces the first
    # when surer and at least ``tail_sure`` (a long-stemmed 7 read whole as a 1; reader.long_tails;
    # 0: off).
    tail_tall: float = 1.5
    tail_top: float = 0.25
    tail_head: float = 1.2
    tail_sure: float = 0.85
    # ... never the upright of a + cut from its arms, flat pieces at most ``cross_flat`` of its height
    # (split.crossed), nor a grid's side cut by the image (split.cut_rules: from ``rule_reach`` of its
    # top to as near its bottom, ``rule_tall`` line heights or more).
    cross_flat: float = 0.25
    rule_reach: float = 0.1
    rule_tall: float = 1.6
    # A sum's division slash (ml.reading.operators.operator_strokes): a box read as 1, between two
    # others, that leans ``slash_lean`` degrees or more and is at most ``slash_thick`` thick, in a line
    # that holds an operator, a box read not a digit at ``slash_operator`` or more between
    # ``operator_size`` and ``operator_below`` line heights (a + or ×; touching digits are as tall as the
    # line). Measured on the real sets: handwritten 1s among digits lean up to 26° (rollno_1), slashes
    # 32-47° and 0.03-0.10 thick.
    # A bracket: read as 1 or 7, ``bracket_tall`` line heights or more, at most ``bracket_thick`` thick,
    # its middle ``bracket_bow`` of its height or more beside its chord (real brackets 0.10-0.26,
    # straight 1s in sums under 0.06; the 7s that bow are 0.43-0.58 thick).
    # A bracket bowed less (``bracket_bow_low``: a photographed sum's shallow ( and ) are 0.06-0.09, a
    # square bracket's hooks 0.07-0.09) is one too where it is tall, or where the classifier itself
    # doubts it is a digit (``bracket_reject`` or more on *not a digit*).
    # A slash leaning less than ``slash_lean`` is one where it leans ``slash_over`` degrees more than the
    # line's digits (their median) and stands ``slash_tall`` line heights or more: a slash rises above
    # the digits it divides, a 1 stands as tall as they are (photographed sums' slashes lean 20-26°
    # beside upright digits).
    bracket_tall: float = 1.1
    bracket_thick: float = 0.3
    bracket_bow: float = 0.09
    bracket_bow_low: float = 0.05
    bracket_reject: float = 0.3
    # A square bracket whose upright slants bows less still; its hooks, reaching ``bracket_hook`` of its
    # height the same way at both ends (operators.hooks), make it one (> 1: off).
    bracket_hook: float = 0.12
    slash_lean: float = 28.0
    slash_over: float = 15.0
    slash_tall: float = 1.1
    slash_thick: float = 0.12
    slash_operator: float = 0.5
    operator_size: float = 0.25
    operator_below: float = 0.95
    # The operator signs themselves, read *not a digit* at ``operator_sure`` or more and at most
    # ``operator_wide`` times as wide as tall, are never cut: a +'s or ×'s strokes, cut apart and
    # joined to the digit beside them, read as 7s and 4s (> 1: off).
    operator_sure: float = 0.8
    operator_wide: float = 1.3
    # A candidate more than this many times as wide as it is tall is no one digit (a printed word read
    # whole as a 5). The widest digits measured: ORAND-CAR-A's flat 0s, up to 2.7; MNIST's under 2.
    max_digit_aspect: float = 3.0
    # A printed label beside the digits (split.printed_words says how each is used; 0 letters: off).
    # Of 300 cheque amounts (touching digits read "not a digit" whole) none had three type-set
    # letters; the eight form labels of the real sets 5 to 9.
    text_letters: int = 3
    text_reject: float = 0.5
    text_share: float = 0.5
    text_gap: float = 1.0
    text_align: float = 0.06
    text_x_height: float = 0.8
    text_cap: float = 1.3
    # --- the line reader's second opinion (ml.reading.linereader) ---
    # A line is read again by the line reader when one of its digits is below this confidence; lines
    # read clearly digit by digit are left alone (and cost no time).
    line_check_below: float = 0.95
    # In a page's line, the line reader's digit replaces the classifier's in the same box only when
    # this much more probable. Both are overconfident, the line reader more: on photo pages (seed 11)
    # a lead of 0.2 replaced right digits as often as wrong ones; on clean pages (seed 2612) 0.3 still
    # replaced three right ones (0.91–0.99 over 0.5–0.6) for two wrong ones. 0.5 measured the same as
    # 0.3 on the seed-11 photo and scene pages (± one page of 150) and the real photos.
    line_margin: float = 0.5
    # A box the line reader reads no digit in is dropped when its digit is under this confidence (at
    # 0.35 a right 0 at 0.28 went, the line reader having skipped it).
    line_drop_below: float = 0.2
    # The line reader cuts a box into several digits, or adds a digit the segmenter missed, only
    # when each of them is at least this probable.
    line_sure: float = 0.9
    # ... and cuts a box only when it is at least this many line heights wide per digit (a wide 8 with
    # a hook, 0.94 line heights wide, was read as 78).
    line_cut_width: float = 0.6
    # A strip read whole: the line reader's string replaces the segmented digits when its digits are
    # at least this probable and more probable than theirs (geometric means). Digit by digit reading
    # is weak there (ORAND-CAR-A: 5 % of amounts exact), so the line reader wins even unsure.
    strip_overrule: float = 0.05
    # A strip's digits read by the line reader are marked uncertain under this probability. Measured
    # on the cheque amounts, each fold by a line reader that never saw it (reliability in
    # docs/results/reading.md; expected calibration error 0.013–0.022): 0.95 flags 17–18 % of the
    # digits and catches 69–85 % of the misread ones (0.85: 8–9 %, 50–70 %), leaving 0.9–1.8 % wrong.
    strip_uncertain_below: float = 0.95
    # A line is split into columns (ml.reading.columns) where a gap between two digits is at least
    # ``column_gap`` line heights and ``column_ratio`` times the line's usual gap (a table row's
    # cells), and that gap is ``column_alone`` line heights or more or lies across wide gaps of
    # ``column_rows`` - 1 other lines. Gaps measured: within a number (seed-8123 pages' truth) up to
    # 1.06; a digit lost from a number 1.6-2.1; a table's cells 1.5-2.6; a sum's terms 2.1-5.
    column_gap: float = 1.5
    column_ratio: float = 3.0
    column_alone: float = 2.4
    column_rows: int = 3
    # The crop around a line's boxes, in line heights on every side.
    line_pad: float = 0.35
    # An image at most ``strip_height`` pixels high and ``strip_aspect`` times as wide is one line read
    # whole (a cheque's amount field: ORAND-CAR-A's are 35–108 px high and 0.9–6 times as wide; at 1.5,
    # 22 of its 1,080 were not strips, at 1.2, 4).
    strip_height: int = 120
    strip_aspect: float = 1.2
    # ... unless the segmenter found two lines or more, one above the other (the median bottom of one's
    # digits above the median top of the next's), each of at least ``stack_digits`` digits read at
    # ``stack_sure`` or more and at least ``stack_height`` as tall as the tallest line: a crop of a
    # table's rows (a score card's two rows of cells), which read as one line merges into nonsense.
    # (A cheque's guilloche read as small, unsure digits above its amount is no such line.)
    stack_digits: int = 3
    stack_sure: float = 0.5
    stack_height: float = 0.6
    # The segmenter's numbers, which the reader also uses (the digit width).
    segment: SegmentParams = field(default_factory=SegmentParams)

    @property
    def short_penalty(self) -> float:
        return float(np.log(self.short_prior))

    @property
    def digit_cost(self) -> float:
        return float(np.log(self.digit_prior))

    @property
    def reject_penalty(self) -> float:
        return float(np.log(self.reject_prior))


SEGMENT = SegmentParams()
READER = ReaderParams()
