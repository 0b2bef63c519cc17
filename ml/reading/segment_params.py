"""The segmenter's numbers (``ml.reading.segment`` and the modules it calls), as a frozen dataclass;
``ml.reading.params`` holds it beside the reader's (its docstring says how lengths are measured).

>>> SegmentParams().work_height
40
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SegmentParams:
    """The segmenter's numbers (``ml.reading.segment`` and the modules it calls)."""

    # --- ink and paper (ml.reading.ink) ---
    # Ink darker than the paper by less than this share of the paper's brightness is never ink: it
    # keeps JPEG noise and paper texture of a blank page from becoming digits (tests: a blank noisy
    # photo with uneven light reads as empty).
    min_contrast: float = 0.18
    # The grey image is each pixel's darkest colour channel, leaving out a channel in which the paper
    # (the median colour of every ``paper_stride``-th pixel) is darker than ``paper_channel`` of its
    # brightest: yellow or green paper is dark and grainy in blue, its grain read as boxes (Krisut01's
    # six photos in real-photos-more: 1 of 6 read before, 6 after).
    paper_channel: float = 0.75
    paper_stride: int = 16
    # Pages are segmented with digits about this many pixels tall: big enough for MNIST's 20 px box,
    # small enough that a 2-megapixel photo of big digits is read in tens of milliseconds.
    work_height: int = 40
    # The digit height is probed on the image shrunk to this long side (cheap, and digits of an A4
    # sheet are still a dozen pixels there).
    probe_side: int = 480
    # Digits shorter than this at the probe's scale cannot be measured: the image keeps every pixel
    # and its digits are taken to be ``work_height`` tall.
    min_probe_height: int = 8
    # An image the probe keeps at its size, its digits under ``enlarge_below`` px tall, is segmented
    # ``enlarge`` times larger (cubic), unless that makes it longer than ``enlarge_side`` px
    # (ml.reading.segment._enlarged; enlarge 1: never). 20 px is MNIST's digit box: under it a digit's
    # crop is scaled up from fewer pixels than the classifier was trained on, and touching digits
    # that small are cut in the wrong place (17 px drawn, measured 19: 40 edits in 90 digits -> 3).
    enlarge: float = 2.0
    enlarge_below: float = 20.0
    enlarge_side: int = 1200
    # Strokes thin and pale for the shrink (ml.reading.segment._thin_strokes): under ``thin_stroke``
    # dark across once shrunk, the image is shrunk at most ``thin_scale`` times less and the darkest
    # pixel of each ``thin_erode`` work pixels is taken first (0: off).
    thin_stroke: float = 0.35
    thin_scale: float = 2.0
    thin_erode: float = 1.0
    # ... nor do specks (a dotted grid's dots, a ruled line's broken pieces) set the digits' height:
    # at the probe, components under ``min_probe_height``; once segmented, under ``speck_floor`` of the
    # height the probe measured (ml.reading.components.typical_height).
    speck_floor: float = 0.25
    # Once segmented, a height over ``height_over`` times the probe's is a mass beyond the page (a desk's
    # grain, a notebook's binding: 568 px where the probe measured 40) outweighing the digits: it is
    # measured again on the boxes the probe measured on (components.height_boxes; 0: off).
    height_over: float = 3.0
    # The paper is estimated on a copy whose short side is about this many pixels: 80 measured better
    # and faster than 120 or 200 on photo pages.
    paper_side: int = 80
    # The closing that estimates the paper is this many work digit heights wide (wider than any
    # stroke or blot): 1.5 measured best of 0.8, 1.5 and 2.5 on photo pages and scenes...
    paper_kernel: float = 1.5
    # ...at least this many pixels of the reduced copy and at least its short side divided by
    # ``paper_page_divisor`` (not tuned).
    paper_min_kernel: int = 7
    paper_page_divisor: int = 12
    # ...and nowhere brighter than a closing of the full-resolution image with a square this many digit
    # heights wide (wider than any stroke, so strokes are filled and stay ink; 0 switches it off), so
    # that a step of the paper itself (a page's edge on a desk) is not read as a stroke. In the probe,
    # where the digits' height is not known yet, ``probe_near`` of the probe's short side: wider than
    # the strokes of a digit photographed close (an eighth of the image across).
    paper_near: float = 0.8
    probe_near: float = 0.2
    # Straight ink this many digit heights long is a rule, not a stroke: subtracting it took the ruled
    # sheet scenes from 88.4 % to 98.0 % of digits and cheques from 98.1 % to 99.5 %.
    rule_length: float = 2.5
    # In an image less than a rule high, an upright at least ``rule_rows`` measured digit heights long
    # (across two rows of digits: a comb field's boxes, 2.4 digit heights, keep their sides)
    # and ``rule_across`` of the image's height is a table's line between cells (remove_rules).
    rule_rows: float = 2.5
    rule_across: float = 0.9
    # The edges of the paper are not strokes either (a page's edge on a desk, a table's edge): thin
    # straight lines at any angle, at least ``rule_length`` digit heights long (in the probe,
    # ``probe_line`` of its diagonal and ``probe_line_min`` px: a small image is a crop, not a photo of
    # a page on a desk) and at most ``straight_thin`` digit heights across (in the probe,
    # ``probe_thin`` px), whose two sides differ in brightness by ``edge_step`` of the brighter side
    # or more (a pen stroke has the same paper on both sides).
    straight_thin: float = 0.06
    probe_line: float = 0.15
    probe_line_min: float = 100.0
    probe_thin: float = 2.5
    edge_step: float = 0.15
    # An upright box whose two sides, ``edge_band`` of its height wide, differ by ``edge_piece_step``
    # and whose darkest tenth is at least ``edge_core`` of the darker side's grey is a piece of the
    # paper's edge (uprights.edge_pieces). Measured: real page edges on a desk 0.31–0.82 apart,
    # their cores 0.85–1.9 of the darker side; 1s written across a shadow's edge 0.33 apart, cores 0.17.
    edge_band: float = 0.3
    edge_piece_step: float = 0.2
    edge_core: float = 0.6
    # A box at the image's frame whose ink is under ``frame_faint`` of the boxes' clear of it (the median
    # over ``frame_peers`` or more) is a desk's grain or a sheet's corner (uprights.frame_pieces). Two
    # rather than three peers: a form field's two digits and its empty boxes' sides at the frame
    # (sbi_house, "01" read "211"); nothing else read differently.
    frame_faint: float = 0.7
    frame_peers: int = 2
    # Openings weaker than this share of ``min_contrast`` are the paper's own residue, not rules.
    rule_floor: float = 0.5
    # Rules photographed off square (ml.reading.ink.rule_slant): slants up to ``rule_max_slant``
    # degrees, in steps of rule_max_slant / rule_slant_steps (coarse at twice that), kept when the
    # sheared row profile is ``rule_slant_gain`` times as sharp as the straight one.
    rule_max_slant: float = 6.0
    rule_slant_steps: int = 12
    rule_slant_gain: float = 1.15
    rule_slant_side: int = 400
    # A rule is followed in straight pieces this many digit heights long, joined into lines
    # ``rule_length`` long: a rule bowed by the lens is straight over a piece, not over its length.
    rule_piece: float = 1.0
    # A frame's short side: an upright at most this share as wide as tall that meets a removed
    # horizontal rule at its top and its bottom, within ``frame_reach`` digit heights (a cheque's
    # amount box; its sides were read as two 1s before, a test). 0 keeps every upright.
    frame_side_aspect: float = 0.35
    frame_reach: float = 0.08
    # A square drawn round one digit (components.remove_frames): at least ``frame_min`` digit heights
    # on each side, at most ``frame_aspect`` times as long as wide, ink along ``frame_cover`` of each side
    # within ``frame_band`` of its shorter side.
    frame_min: float = 0.8
    frame_aspect: float = 2.5
    frame_cover: float = 0.9
    frame_band: float = 0.12
    # A row of cells digits are written in, one to a cell (cells.remove_cell_sides): straight uprights
    # ``cell_piece`` digit heights long or more (pieces in the same columns up to ``cell_join`` apart
    # joined: a pale side's pieces), at most ``cell_thin`` wide (plus ``cell_lean`` of their height, a
    # photo a few degrees off square); ``cell_count`` or more in a row, each overlapping the last ones'
    # rows by ``cell_overlap`` of the taller, ``cell_gap`` apart and evenly (within ``cell_even`` of a
    # cell, a side or two missing); ink (``cell_ink`` digit heights squared, ``cell_content`` of the
    # digit height or taller) in one cell or more, within ``cell_align`` of their ends, and the sides
    # ``cell_taller`` times as tall as it, ``cell_side`` digit heights or more and reaching
    # ``cell_margin`` of their height below it (not a printed word's stems), or at most
    # ``cell_tick`` of it (a comb's ticks, on a rule). Chosen on synthetic forms (``ml pages --tier
    # scenes --kind form``, seeds 501 and 777) and the real forms set (docs/datasets), checked on the
    # two real photo sets (nothing read worse).
    cell_piece: float = 0.15
    cell_join: float = 0.3
    cell_thin: float = 0.2
    cell_lean: float = 0.06
    cell_count: int = 5
    cell_align: float = 0.15
    cell_overlap: float = 0.7
    cell_gap: tuple[float, float] = (0.6, 4.0)
    cell_even: float = 0.2
    cell_ink: float = 0.03
    cell_content: float = 0.5
    cell_margin: float = 0.125
    cell_taller: float = 1.25
    # ... or, where the frame cut the row (half its sides run to the image's edge: a score card's row
    # cropped at its digits' feet), at least ``cell_cut_taller`` times as tall as the ink.
    cell_cut_taller: float = 1.0
    # A side printed double, its two lines this many digit heights apart or less, is taken whole.
    cell_double: float = 0.15
    cell_side: float = 0.5
    cell_tick: float = 0.6
    # A table's or grid's cell lines left over as uprights drawn far finer than the digits, dropped
    # and erased for the line reader (uprights.hairlines says how each is used). 0 keeps them.
    hairline_ratio: float = 0.6
    hairline_pale: float = 0.6
    hairline_faint: float = 0.2
    hairline_side: float = 0.3
    hairline_reach: float = 0.5
    hairline_edge: float = 1.0
    # What rule removal leaves of a grid drawn bolder than the digits (a sudoku's lines, a score card's):
    # boxes with under ``residue_left`` of their ink farther than ``residue_near`` digit heights from
    # a rule removed (uprights.rule_residue; 0: off). A digit crossed by a ruled line keeps its strokes
    # above and below it; at 0.12 a 1 written against a grid's side went (a scene page), at 0.08 the
    # real sets' stubs go as before (their ink lies within 0.07 digit heights of the rule).
    residue_near: float = 0.08
    residue_left: float = 0.25
    # ... and only near ``residue_rules`` separate rules or fewer: a grid's lines are joined, a cheque's
    # security pattern is short lines through its digits (8 to 12 of them round an amount).
    residue_rules: int = 2
    # An upright box (at most ``run_on_aspect`` as wide as tall) from whose top or bottom an upright rule
    # runs on, in its columns, for ``run_on_reach`` digit heights, is that rule's piece: a box line drawn
    # by hand, straight enough to be removed along most of its length but bent where it leaves the
    # frame, read as a tall 1 (uprights.rule_run_on; 0: off).
    # Only boxes ``run_on_tall`` digit heights tall or more: a digit beside a cell's side, ending where
    # the side runs on, is a digit's height (a scene page's 1s and a 9 in a grid's cells were lost).
    run_on_reach: float = 0.15
    run_on_aspect: float = 0.5
    run_on_tall: float = 1.5

    # --- which way round the ink is (ml.reading.ink.polarity) ---
    # Light ink on a dark ground may be seen when, on the probe split at Otsu's threshold, the dark part
    # is the majority (``light_majority``) and holds most of the border (``light_border``), and the two
    # parts differ by at least ``light_contrast`` of the light part's brightness (a page's light
    # gradient split in two is not ink). Images no larger than ``light_small`` px are then digit crops
    # (MNIST as stored, a small canvas): light ink. A larger one may also be a light page photographed
    # on a dark desk, and looking cannot always tell (twice the widest inscribed radius of the light
    # parts over their height, area-weighted: MNIST digits 0.10–0.39, brush digits on a canvas up to
    # 0.33, a sheet on a desk 0.2–0.5 as its digits cut into it): under ``light_strokes`` (hair-thin
    # chalk) it is light ink, from ``light_page`` on a page; between, the reader reads it both ways and
    # keeps the more confident reading.
    light_majority: float = 0.5
    light_border: float = 0.5
    light_contrast: float = 0.3
    light_strokes: float = 0.1
    light_page: float = 0.45
    light_small: int = 100
    # A form printed in a dropout colour (pink or light red grid lines, as mark sheets are, so a
    # scanner can leave them out): when the pixels whose red exceeds their green and blue by
    # ``dropout_gap`` hold a component ``dropout_spread`` of the probe's width or height, and their red
    # is at least ``dropout_bright`` of the paper's, the image is read in its red channel, where the
    # grid is as bright as the paper and blue or black ink stays dark (ink.dropout_gray); provided
    # those components are a grid's lines (colour._grid_lines): ``dropout_lines`` of their pixels on
    # straight runs half the image long and at most ``dropout_thick`` left by a 3 x 3 erosion, not
    # digits drawn in red marker taller than half the image, nor a brown desk at the frame.
    dropout_gap: int = 50
    dropout_spread: float = 0.5
    dropout_bright: float = 0.9
    dropout_lines: float = 0.5
    dropout_thick: float = 0.8

    # --- threshold (ml.reading.ink.binarize) ---
    # Otsu's threshold on the ink map is scaled by ``otsu_scale`` and clamped to [min_contrast,
    # max_threshold], so a blank page stays blank and a page of heavy ink keeps its thin strokes
    # (not tuned).
    otsu_scale: float = 0.8
    max_threshold: float = 0.5
    # With hysteresis, ink down to this share of the threshold (and never below ``weak_floor`` ×
    # ``min_contrast``) joins firm ink up to ``reach`` pixels away along faint ink: without it, photo
    # pages lose 0.13 points of digits and 1.6 of exact pages.
    hysteresis: float = 0.6
    weak_floor: float = 0.75
    reach: int = 4

    # --- components and boxes (ml.reading.components) ---
    # Components smaller than this many pixels, or than the image's pixels / ``min_area_divisor``,
    # are noise (not tuned).
    min_area: int = 4
    min_area_divisor: int = 200_000
    # Components running along this share of the image's perimeter and this many digit heights long are
    # what lies around the page, not ink (ml.reading.components.drop_surround).
    surround_contact: float = 0.1
    surround_extent: float = 3.0
    # Boxes left out of the digit-height estimate: wider than ``height_max_aspect`` heights or taller
    # than ``height_max_elongation`` widths (ruled lines, margins), or inked on less than
    # ``height_min_fill`` of their area (a grid's frame; 0.04 before left out a digit drawn in one-pixel
    # lines, a paint program's pencil, so that such drawings read as nothing).
    height_max_aspect: float = 5.0
    height_max_elongation: float = 15.0
    height_min_fill: float = 0.015
    # In the probe (ml.reading.components.height_boxes): a box holding this many others is a grid or a
    # table when they hold ``container_share`` of its ink (unless it is inked on ``container_max_fill``
    # of its area: a textured paper); with this many digit-sized boxes clear of the image's edge,
    # holding ``clear_share`` of the ink, what touches the edge is not measured.
    container_holds: int = 3
    # ... and so is a box with two lines across ``grid_span`` of its width and two down that share of
    # its height (cells.is_grid: digits touching a score card's lines joined it into one component),
    # looked for in boxes ``grid_size`` times the median box's height or more each way.
    grid_size: float = 1.5
    grid_span: float = 0.85
    grid_drift: float = 0.05
    container_share: float = 0.05
    container_max_fill: float = 0.3
    clear_of_edge: int = 3
    # "Touching the edge" there: reaching within ``rim_band`` of the image's long side of it (a desk's
    # strip whose border pixels the paper's edge trend took for paper stops a few pixels short).
    rim_band: float = 0.01
    clear_share: float = 0.25
    # Fragments shorter than ``fragment_height`` digit heights and at most ``fragment_gap`` apart
    # cluster into one box when the cluster is ``fragment_min`` to ``fragment_max`` digit heights tall
    # (and at most ``fragment_max`` wide): a faint digit binarized into pieces (a test: a shattered 3 is
    # lost without it; the ruled-sheet scenes lose 0.5 points of digits).
    fragment_height: float = 0.6
    fragment_gap: float = 0.2
    fragment_min: float = 0.6
    fragment_max: float = 1.3
    # Two components are one broken digit when they share at least ``merge_overlap`` of the narrower
    # one's columns, are less than ``merge_gap`` digit heights apart vertically and together at most
    # ``merge_height`` tall: without merging, photo pages lose 0.5 points of digits and clean pages 0.4.
    merge_overlap: float = 0.5
    merge_gap: float = 0.35
    merge_height: float = 1.3
    # Boxes shorter than ``min_height_ratio`` digit heights are specks, dots or commas; wider than
    # ``max_line_aspect`` of their height, a ruled line or an underline; taller than
    # ``max_height_ratio`` digit heights, a frame, a margin rule or a drawing, unless digits with
    # peers as tall or as small (``tall_*``, ``small_*``: components.tall_digits, small_digits).
    # Without this filter clean pages lose 0.24 points of digits.
    min_height_ratio: float = 0.4
    max_line_aspect: float = 4.0
    max_height_ratio: float = 2.2
    tall_max: float = 3.0
    tall_peer: float = 0.3
    tall_width: float = 1.5
    # ... or a digit alone among shorter ones, a writer's long-stemmed 7 or 9 (tall_digits): at least
    # ``tall_lone_width`` of its height wide (a margin rule or a table's side is thinner), within
    # ``tall_lone_near`` digit heights of a digit of the usual size, and two such digits standing in
    # its height within ``tall_lone_beside`` digit heights (0: off).
    tall_lone_width: float = 0.15
    tall_lone_near: float = 1.0
    tall_lone_beside: float = 3.0
    # ``small_*`` set on joeychan_2's thin-pen date (its 0s 0.27–0.33 digit heights), with a score
    # card's stubs and a grid's broken sides (0.17–0.36 as wide as tall) kept out; not tuned further.
    small_min: float = 0.25
    small_width: float = 0.3
    small_reach: float = 2.0

    # --- cutting boxes that may hold touching digits (ml.reading.split.cut_pieces) ---
    # The typical width of a handwritten digit, in digit heights: sets how many cuts a wide box gets
    # and what a dropped box costs the reader (ReaderParams.reject_penalty).
    digit_width: float = 0.6
    # A box at least this many digit heights wide may hold touching digits and gets cut candidates.
    split_aspect: float = 0.45
    # No cut piece is narrower than this share of a digit height, nor than ``min_piece_px`` pixels:
    # 0.15 measured 0.12 points of digits worse on photo pages (the right cut between touching digits
    # can be that close to another).
    min_piece: float = 0.12
    min_piece_px: int = 3
    # At most ``max_cuts`` cuts per box, or ``cuts_per_digit`` per digit width it spans if that is
    # more: in three touching digits the minima inside a 0's loop used to take all four cuts (photo
    # pages 98.82 → 99.08 % over six sets of 500 with the finer cuts).
    max_cuts: int = 4
    cuts_per_digit: float = 3.0
    # A box is cut as if it were at least ``cut_ref`` line heights tall (a short box in a line of tall
    # digits), and its column profile is smoothed over ``profile_blur`` of that (not tuned).
    cut_ref: float = 0.8
    profile_blur: float = 0.06

    # --- separators between the digits of a line (ml.reading.separators) ---
    # Of the boxes too small or flat to be digits, those at least ``separator_min`` digit heights across
    # that sit between the digits of a line (or up to ``separator_after`` line heights after its last)
    # are its separators: a ``-`` at mid-height, at most ``dash_height`` line heights thick and
    # ``dash_width`` long; at the foot of the line a ``.`` (round and filled: at most ``dot_size`` line
    # heights, ink on ``dot_fill`` of its box or more) or a ``,`` (taller than wide, or a thin slant
    # reaching below the digits' foot; at most ``comma_size``). Measured on the cheque and sheet scenes:
    # dots fill 0.6–0.9 of their box, the slanted commas drawn there 0.42–0.55.
    separator_min: float = 0.06
    separator_after: float = 0.6
    dash_height: float = 0.3
    dash_width: float = 1.0
    dot_size: float = 0.3
    dot_fill: float = 0.58
    comma_size: float = 0.5
    # A dotted line a number is written on (a form's leader): ``dotted_outside`` or more dots at the
    # line's foot beyond its digits (up to ``dotted_reach`` line heights before or after them), or
    # ``dotted_gap`` or more in one gap between digits. Its dots are none of them separators. A
    # number's own point sits between two digits, one to a gap; a full stop after it is one dot.
    dotted_outside: int = 2
    dotted_reach: float = 3.0
    dotted_gap: int = 2

    # --- lines (ml.reading.lines) ---
    # A box joins a line when it overlaps the line's nearest box vertically by more than this share of
    # the smaller height (a test reads a line rotated 9°).
    line_overlap: float = 0.4
    # Lines at ``skew_min`` degrees or more (a page photographed askew) are grouped in coordinates turned
    # by their angle, found from each box's nearest neighbour to the right within ``skew_reach`` box
    # heights (under ``skew_min`` the nearest-box overlap above copes: a test reads a line at 9°).
    skew_min: float = 12.0
    skew_reach: float = 2.5
    skew_sample: int = 300  # boxes whose neighbour is looked for, at most about this many
    # The lines' angle is the median of the largest group of those neighbours' angles within
    # ``skew_agree`` degrees of one another (ties: the group nearest level). A plain median of few
    # angles took one diagonal neighbour for the lines' slant: two columns of single digits (six boxes,
    # two angles, 1° and 42°) were grouped at 22°, every digit a line of its own.
    skew_agree: float = 8.0
    # A page with ``skew_rules`` or more horizontal rules (found within a few degrees of level) is level
    # whatever its digits' neighbours say (ml.reading.lines.level_rules; 0: never so).
    skew_rules: int = 2
    # A slant is taken only when ``skew_backing`` angles or more, and more than half of all, agree on it:
    # in a sparse grid (a sudoku's clues, one to a cell) the nearest neighbour to the right is as often
    # a diagonal one, and two diagonals, or four of eight at 38° against three level, turned its rows
    # into diagonals (lines.skew; 0: any largest group).
    skew_backing: int = 3
    # The naive grouping of the ablation (Steps.rotated_lines off): centres within this many digit
    # heights of the previous box's.
    row_band: float = 0.5

    # --- crops (ml.reading.boxes.Segmentation.crop) ---
    # A digit's crop takes in the fainter ink joined to it in its box, down to ``crop_faint`` of its
    # stroke strength (and never below ``crop_faint_floor`` × ``min_contrast``), keeping
    # ``crop_keep_away`` pixels from other components: a pencil 0 whose pale side fell under the
    # threshold was read as 6 without it (a test; the ruled-sheet scenes 97.7 → 98.0 % of digits).
    crop_faint: float = 0.2
    crop_faint_floor: float = 0.5
    crop_keep_away: int = 5
    # Strokes under ``crop_thin`` px at MNIST's scale (a 1-px paint line) are thickened to ``crop_thin_to``.
    crop_thin: float = 0.6
    crop_thin_to: float = 1.2
    # Re-cutting a digit at a box a reading recorded (feedback): the components holding at least
    # this share of the most-inked one's pixels in the box are the digit's (not tuned).
    box_at_share: float = 0.2
