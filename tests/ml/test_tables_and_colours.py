"""Digits drawn in red marker, a crop of a table's two rows, digits on dotted grid paper, a desk's grain at
the frame: what a new set of real photos (docs/datasets/real-photos-new.csv) and the fresh set showed read
wrong (issue 17). Each built from MNIST test digits; each also read with its step switched off, which
must get it wrong."""

import cv2
import numpy as np
import pytest

from ml import read
from ml.reading.cells import remove_cell_sides
from ml.reading.colour import dropout_gray
from ml.reading.params import ReaderParams, SegmentParams
from ml.reading.reader import TooDenseError
from ml.synth.compose import page_from_text, pick_digits


def glyph(test_digits, digit: str, rng: np.random.Generator, height: int) -> np.ndarray:
    """An MNIST test digit cut to its ink and scaled to ``height`` px, ink in [0, 1]."""
    images, labels = test_digits
    crop = pick_digits(images, labels, digit, seed=int(rng.integers(1 << 30)))[0]
    ys, xs = np.nonzero(crop > 40)
    crop = crop[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    size = (max(1, height * crop.shape[1] // crop.shape[0]), height)
    return cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255


def red_marker(test_digits, digits: str, seed: int) -> np.ndarray:
    """Digits drawn in a bright red felt marker, 90 px tall on a strip 150 px high: taller than half
    the image, as a red grid's lines would be, but drawn with strokes 8 px thick."""
    rng = np.random.default_rng(seed)
    strip = np.full((150, 110 * len(digits) + 20, 3), 255, np.uint8)
    red = np.array([40, 35, 235], np.float32)
    for i, digit in enumerate(digits):
        ink = cv2.dilate(glyph(test_digits, digit, rng, 90), np.ones((7, 7), np.uint8))[..., None]
        x = 63 + 110 * i - ink.shape[1] // 2
        cell = strip[30:120, x : x + ink.shape[1]].astype(np.float32)
        strip[30:120, x : x + ink.shape[1]] = (cell * (1 - ink) + red * ink).astype(np.uint8)
    return strip


@pytest.mark.parametrize("seed", [0, 1])
def test_digits_drawn_in_red_marker_are_not_taken_for_a_dropout_grid(test_digits, shipped_model, seed):
    digits = "09420037"[seed:]
    strip = red_marker(test_digits, digits, seed)
    assert dropout_gray(strip) is None
    assert read(strip, model=shipped_model).text == digits
    # Read in the red channel, as a pink grid's sheet is, the red digits are paper: nothing is left.
    as_grid = ReaderParams(segment=SegmentParams(dropout_lines=0.0, dropout_thick=1.0))
    assert read(strip, model=shipped_model, params=as_grid).text == ""


def two_rows(test_digits, rows: list[list[str]], seed: int) -> np.ndarray:
    """A phone photo's crop of a score card's two rows: two-digit numbers (MNIST digits 32 px tall,
    dark pen) in cells 90 px wide, between printed blue lines; the lines between cells run the crop's
    whole height, 96 px, which is less than a rule (2.5 digit heights of the work scale)."""
    rng = np.random.default_rng(seed)
    card = np.full((96, 90 * len(rows[0]) + 8, 3), (235, 228, 225), np.uint8)
    blue, pen = (200, 150, 110), np.array([60, 50, 50], np.float32)
    for k in range(3):
        cv2.line(card, (0, 2 + 46 * k), (card.shape[1] - 1, 2 + 46 * k), blue, 2)
    for k in range(len(rows[0]) + 1):
        cv2.line(card, (4 + 90 * k, 0), (4 + 90 * k, 95), blue, 2)
    for r, row in enumerate(rows):
        for c, number in enumerate(row):
            x = 16 + 90 * c
            for digit in number:
                ink = glyph(test_digits, digit, rng, 32)[..., None]
                y = 10 + 46 * r + int(rng.integers(-3, 4))
                cell = card[y : y + 32, x : x + ink.shape[1]].astype(np.float32)
                card[y : y + 32, x : x + ink.shape[1]] = (cell * (1 - ink) + pen * ink).astype(np.uint8)
                x += ink.shape[1] + 4
    return cv2.GaussianBlur(card, (3, 3), 0)


@pytest.mark.parametrize("seed", [0, 2])
def test_a_crop_of_a_tables_two_rows_is_read_as_two_lines(test_digits, shipped_model, seed):
    rows = [["25", "30", "15", "40"], ["18", "24", "10", "72"]]
    card = two_rows(test_digits, rows, seed)
    truth = ["".join(row) for row in rows]
    assert read(card, model=shipped_model).line_texts == truth
    # Shaped like a cheque's amount (low, wide), the crop was read whole as one line: nonsense.
    as_strip = read(card, model=shipped_model, params=ReaderParams(stack_digits=100))
    assert len(as_strip.line_texts) == 1 and as_strip.text not in truth
    # The lines between cells, shorter than a rule, stay as 1s in the second row.
    no_uprights = ReaderParams(segment=SegmentParams(rule_rows=100.0))
    assert read(card, model=shipped_model, params=no_uprights).line_texts != truth


def dotted_paper(test_digits, lines: list[str], seed: int) -> np.ndarray:
    """A sheet of dotted grid paper (dots 2 px every 6 px, lines every 36 px both ways: thousands of
    specks, more ink than the digits), digits 64 px tall written on it."""
    rng = np.random.default_rng(seed)
    sheet = np.full((600, 800), 215, np.uint8)
    for y in range(10, 600, 36):
        for x in range(0, 800, 6):
            sheet[y : y + 2, x : x + 2] = 40
    for x in range(10, 800, 36):
        for y in range(0, 600, 6):
            sheet[y : y + 2, x : x + 2] = 40
    for r, line in enumerate(lines):
        for i, digit in enumerate(line):
            ink = glyph(test_digits, digit, rng, 64)
            y, x = 70 + 130 * r + int(rng.integers(-5, 6)), 80 + 96 * i
            region = sheet[y : y + 64, x : x + ink.shape[1]]
            sheet[y : y + 64, x : x + ink.shape[1]] = np.minimum(region, (215 - 170 * ink).astype(np.uint8))
    return cv2.GaussianBlur(sheet, (3, 3), 0)


def test_a_dotted_grids_specks_do_not_set_the_digits_height(test_digits, shipped_model):
    lines = ["12345", "6789", "2345"]
    sheet = dotted_paper(test_digits, lines, seed=0)
    assert read(sheet, model=shipped_model).line_texts == lines
    # Measured on the specks, the digits were three specks tall: the sheet held thousands of digits.
    with pytest.raises(TooDenseError):
        read(sheet, model=shipped_model, params=ReaderParams(segment=SegmentParams(speck_floor=0.0)))


def sheet_on_a_desk(test_digits, lines: list[str], seed: int) -> tuple[np.ndarray, list[str]]:
    """A sheet of digits 60 px tall photographed on a wooden desk, whose orange grain runs down a strip
    34 px wide along the image's right edge: in the darkest channel the grain is dark, and in pieces."""
    images, labels = test_digits
    rng = np.random.default_rng(seed)
    grey, truth = page_from_text(images, labels, lines, seed=seed, digit_height=60)
    h, w = grey.shape
    photo = np.full((h + 80, w + 160, 3), 240, np.uint8)
    photo[40 : 40 + h, 60 : 60 + w] = grey[..., None]
    grain = rng.normal(0, 1, (photo.shape[0] // 8 + 1, 34)).astype(np.float32)
    grain = cv2.resize(grain, (34, photo.shape[0]), interpolation=cv2.INTER_CUBIC)
    grain = cv2.GaussianBlur(grain, (5, 1), 0)
    wood = np.stack([60 + 25 * grain, 140 + 25 * grain, 215 + 15 * grain], -1)
    photo[:, -34:] = np.clip(wood, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(photo, (3, 3), 0), truth["lines"]


def test_a_desks_grain_at_the_frame_is_not_read_as_digits(test_digits, shipped_model):
    keep = ReaderParams(segment=SegmentParams(frame_faint=0.0))
    # (Seed 5's grain, read *not a digit* whole, is now also kept whole by the operator-sign rule and
    # dropped without this step; seeds 7's and 9's, a piece in the image's corner on a line of its own,
    # by the corner rule (reader.corner_lines): seeds 1 and 3 are those of 0-15 only this step takes
    # out and the reader then reads right.)
    for seed in (1, 3):
        photo, lines = sheet_on_a_desk(test_digits, ["1234567890", "7395"], seed)
        assert read(photo, model=shipped_model).line_texts == lines
        # Kept, the grain's pieces were read as 1s and 8s beside the lines or as lines of their own.
        assert read(photo, model=shipped_model, params=keep).line_texts != lines



def test_a_row_of_cells_cut_by_the_frame_loses_its_sides():
    # A score card's row cropped at its digits' feet (akcam_2 of real-photos-fresh): six cells between
    # uprights that run from the row's top line to the image's bottom edge, 40 px, around 0s 34 px
    # tall: too little taller than the digits, and never seen below them, for a box's sides.
    ink = np.zeros((60, 560), np.float32)
    ink[14:16, :] = 0.6
    for k in range(7):
        ink[16:60, 10 + 90 * k : 12 + 90 * k] = 0.6
    ink[16:60, 15:17] = 0.6  # the first side printed double, as akcam_2's: both lines go
    for k in range(6):
        _ = cv2.ellipse(ink, (55 + 90 * k, 42), (12, 17), 0, 0, 360, 0.8, 3)
    cleaned, sides = remove_cell_sides(ink, 34.0)
    assert sides is not None and float(cleaned[30:60, 10:17].max()) == 0.0
    assert cleaned[42, 43] == ink[42, 43] > 0.5  # the 0s stay
    uncut = SegmentParams(cell_cut_taller=100.0)
    assert remove_cell_sides(ink, 34.0, params=uncut)[1] is None
