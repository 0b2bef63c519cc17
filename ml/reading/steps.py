"""The switches of the reader's steps: everything on is the product, the rest is for the ablation
study (``python -m ml score-pages DIR --without STEP``).

>>> Steps().lines, Steps(lines=False).lines, "words" in Steps.names()
(True, False, True)
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Steps:
    """Which pipeline steps run; everything on is the product, the rest is for the ablation study.

    ``python -m ml score-pages DIR --without STEP`` switches one off (table in docs/results/reading.md).
    """

    rescale: bool = True  # large photos shrunk to the digits' size first (off: full resolution)
    background: bool = True  # ink relative to the local paper (off: relative to white)
    hysteresis: bool = True  # faint ink that joins strong ink counts (off: one threshold)
    merge: bool = True  # pieces of a broken digit merged by geometry
    filter: bool = True  # specks, dots and ruled lines dropped by size and shape
    cut: bool = True  # wide boxes over-segmented for touching digits
    rotated_lines: bool = True  # lines grouped box to box, tolerating rotation (off: by row bands)
    choose: bool = True  # the classifier picks digits among candidate runs (ml.reading.split)
    edge_trend: bool = True  # the paper's light continued past the image edge (off: edge strips)
    faint: bool = True  # crops take in the faint ink joined to a digit (off: the binarized ink only)
    fragments: bool = True  # clusters of small fragments (a faint digit in pieces) joined
    rules: bool = True  # straight ruled lines, margin rules and frames subtracted from the ink
    cells: bool = True  # the sides of a row of cells written one digit to a cell (a form's boxes) subtracted
    polarity: bool = True  # light ink on a dark ground (chalk, white-on-black canvas, MNIST as stored) seen
    surround: bool = True  # what runs along the image's edge (the desk around a page) is no ink
    edges: bool = True  # the paper's edges (a page's edge on a desk, a table's edge) are no ink
    separators: bool = True  # the . , - between a line's digits are reported (never read as digits)
    hairlines: bool = True  # uprights drawn far finer than the digits (cell lines of a table) dropped
    dropout: bool = True  # a form's grid in pink or light red read in the red channel, where it vanishes
    words: bool = True  # printed words beside the digits (a form's labels) set aside, never cut into digits
    lines: bool = True  # the line reader reads doubtful lines and strips whole (ml.reading.linereader)
    columns: bool = True  # a row's numbers far apart (a table's cells) are lines of their own

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


ALL_STEPS = Steps()
