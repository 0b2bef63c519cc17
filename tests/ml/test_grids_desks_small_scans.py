"""Real photos grown on 2026-12-07 (sixth session) read wrong: a sudoku's sparse givens grouped along
its diagonals; a register's 16 px dates broken apart and merged with its rules (issue 17). Built from
MNIST test digits and drawn grids and rules; each also read with its step switched off, which must
read it worse."""

import cv2
import numpy as np

from ml import read
from ml.models.linenet import edit_distance
from ml.reading.params import ReaderParams, SegmentParams
from tests.ml.drawing import mnist_digit as _digit

# Givens of a 9 x 9 grid, row by row: (row, column, digit), each row's a cell across and a cell down
# from the row above's, so every given's nearest neighbour to the right is a diagonal one.
GIVENS = [(r, c, (r + c) % 9 + 1) for r in range(9) for c in range(9) if (c - r) % 4 == 0]


def _paste(page: np.ndarray, ink: np.ndarray, x: int, y: int, strength: float = 0.85) -> None:
    window = page[y : y + ink.shape[0], x : x + ink.shape[1]]
    window[:] = np.minimum(window, 240 - ink * strength).astype(np.uint8)


def sudoku(test_digits, cell: int = 60) -> tuple[np.ndarray, str]:
    """A hand-drawn-looking sudoku: thin cell lines, bold box lines, MNIST givens; and its label."""
    side = 9 * cell + 40
    page = np.full((side, side), 240, np.uint8)
    for k in range(10):
        pen = 4 if k % 3 == 0 else 1
        at = 20 + k * cell
        cv2.line(page, (20, at), (side - 20, at), 30, pen)
        cv2.line(page, (at, 20), (at, side - 20), 30, pen)
    for r, c, d in GIVENS:
        ink = _digit(test_digits, d, int(0.6 * cell))
        _paste(page, ink, 20 + c * cell + (cell - ink.shape[1]) // 2, 20 + r * cell + cell // 5)
    rows = [" ".join(str(d) for rr, _, d in GIVENS if rr == r) for r in range(9)]
    return page, "".join(rows).replace(" ", "")


def test_a_sparse_grid_is_read_row_by_row(test_digits, shipped_model):
    page, truth = sudoku(test_digits)
    reading = read(page, model=shipped_model)
    assert reading.text.replace(" ", "") == truth and len(reading.line_texts) == 9
    unruled = ReaderParams(segment=SegmentParams(skew_rules=0))
    assert read(page, model=shipped_model, params=unruled).text.replace(" ", "") != truth


def register_column(test_digits, dates: list[str], *, height: int, sink: int, seed: int = 0) -> np.ndarray:
    """A phone photo's crop of a register's date column: dates as d,mm,yy in thinned MNIST digits
    ``height`` px tall sunk ``sink`` px into the ruled lines they stand on, a comma's stroke between the
    parts, faint, softened and grainy, the crop kept small."""
    rng = np.random.default_rng(seed)
    step = int(1.7 * height)
    page = np.full((step * len(dates) + 10, 7 * height + 20), 190, np.uint8)
    for k, date in enumerate(dates):
        base = 6 + (k + 1) * step
        cv2.line(page, (0, base), (page.shape[1], base), 110, 1)
        x = 4
        for part in date.split(","):
            for d in part:
                ink = cv2.erode(_digit(test_digits, int(d), height), np.ones((2, 2), np.uint8))
                window = page[base - height + sink :, x:][:height, : ink.shape[1]]
                window[:] = np.minimum(window, 190 - ink * 0.5).astype(np.uint8)
                x += ink.shape[1] + 1
            cv2.line(page, (x, base - 1 + sink), (x + 1, base + 2 + sink), 90, 1)
            x += 5
    page = cv2.GaussianBlur(page, (0, 0), 0.8)
    return np.clip(page + rng.normal(0, 6, page.shape), 0, 255).astype(np.uint8)


def test_a_small_crop_of_small_dates_is_read_at_twice_its_size(test_digits, shipped_model):
    # Digits 15-16 px tall with one-pixel strokes on the rules: at the crop's own size they broke apart
    # and merged with the rules (a register's "04,03,25" read "42"); segmented at twice the size most
    # are read (not all: the synthetic crop is harsher than the register was: 27 edits in 64 digits,
    # against 54 at its own size).
    dates = ["1,03,25", "3,03,25", "04,03,25", "06,03,25", "25,02,25", "26,02,25"]
    truth = "".join(dates).replace(",", "")
    pages = [register_column(test_digits, dates, height=h, sink=k) for h, k in ((15, 2), (16, 2))]
    kept = ReaderParams(segment=SegmentParams(enlarge=1.0))
    on = [edit_distance(read(page, model=shipped_model).text.replace(" ", ""), truth) for page in pages]
    off = [edit_distance(read(page, model=shipped_model, params=kept).text.replace(" ", ""), truth)
           for page in pages]
    assert all(a + 8 <= b for a, b in zip(on, off)), (on, off)
    assert sum(on) < 0.5 * 2 * len(truth), on
    small = read(pages[0], model=shipped_model)
    assert all(0 <= d.box[0] and d.box[0] + d.box[2] <= pages[0].shape[1] for d in small.digits)


def touching_dates(test_digits, numbers: list[str], *, height: int, seed: int) -> np.ndarray:
    """A register's column of dates written without separators, each digit ``height`` px tall and
    touching the next (one column shared), on a ruled line, lightly blurred and noisy."""
    rng = np.random.default_rng(seed)
    page = np.full((len(numbers) * (height + 12) + 8, 120), 225, np.float32)
    for k, number in enumerate(numbers):
        x, y = 4, 6 + k * (height + 12)
        for d in number:
            ink = _digit(test_digits, int(d), height).astype(np.float32) / 255
            window = page[y : y + height, x : x + ink.shape[1]]
            window[:] = np.minimum(window, 225 - ink[: window.shape[0], : window.shape[1]] * 170)
            x += ink.shape[1] - 1
        cv2.line(page, (0, y + height + 2), (119, y + height + 2), 150, 1)
    page = cv2.GaussianBlur(page, (0, 0), 0.7)
    return np.clip(page + rng.normal(0, 5, page.shape), 0, 255).astype(np.uint8)


def test_touching_digits_under_mnists_box_are_cut_at_twice_their_size(test_digits, shipped_model):
    # Drawn 17 px tall (the probe measures 19: over the old 17 px bar, under MNIST's 20 px box), touching
    # digits at their own size were cut in the wrong place and the pieces read as no digit (a register's
    # "25.02.25" lost its 25); at twice the size they are cut where they touch.
    numbers = ["250225", "260225", "040325", "060325", "130325"]
    truth = "".join(numbers)
    pages = [touching_dates(test_digits, numbers, height=17, seed=seed) for seed in range(3)]
    kept = ReaderParams(segment=SegmentParams(enlarge=1.0))
    on = [edit_distance(read(page, model=shipped_model).text.replace(" ", ""), truth) for page in pages]
    off = [edit_distance(read(page, model=shipped_model, params=kept).text.replace(" ", ""), truth)
           for page in pages]
    assert sum(on) <= 6 and sum(off) >= sum(on) + 20, (on, off)


def sheet_beside_another(test_digits, digits: str, *, seed: int) -> np.ndarray:
    """A sheet with one line of digits on a grey desk, and the corner of another sheet poking into the
    frame at the left edge, level with the line (a photo's neighbouring page)."""
    rng = np.random.default_rng(seed)
    page = np.full((400, 700), 150, np.uint8)
    cv2.rectangle(page, (60, 40), (680, 380), 235, -1)
    cv2.fillConvexPoly(page, np.array([[0, 120], [50, 200], [0, 290]], np.int32), 245)
    x = 150
    for d in digits:
        ink = _digit(test_digits, int(d), 44)
        _paste(page, ink, x, 180, strength=0.8)
        x += ink.shape[1] + 12
    page = cv2.GaussianBlur(page, (0, 0), 1.0)
    return np.clip(page + rng.normal(0, 4, page.shape), 0, 255).astype(np.uint8)


def test_the_desk_beside_another_sheets_corner_does_not_set_the_digits_height(test_digits, shipped_model):
    # The strip of desk between the two sheets stops a few pixels short of the frame (the paper's edge
    # trend takes its border for paper): counted as clear of the edge, its height was taken for the
    # digits' and the page read "1". Within the rim (rim_band), it is not measured.
    old = ReaderParams(segment=SegmentParams(rim_band=0.0))
    for seed in range(3):
        page = sheet_beside_another(test_digits, "20191101", seed=seed)
        text = read(page, model=shipped_model).text
        assert "20191101" in text and len(text) <= 9, (seed, text)
        assert "20191101" not in read(page, model=shipped_model, params=old).text
