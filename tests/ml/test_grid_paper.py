"""Grids on real photos (real-photos-blind5's looked-at half, 2026-12-07, eighth session): grid paper's
faint lines, wavy where the sheet bends, and its grain's blots were read as confident 1s and doubtful 8s
between the written digits; a sudoku's box lines drawn by hand, bent where the pen started, left their
bent tops as tall 1s. Built from MNIST test digits on drawn grids; each read with its step switched off
too, which must read it worse."""

import cv2
import numpy as np

from ml import read
from ml.models.linenet import edit_distance
from ml.reading.params import ReaderParams, SegmentParams
from tests.ml.drawing import mnist_digit
from tests.ml.test_grids_desks_small_scans import GIVENS, _paste

ROWS = ["4096", "75013", "2861", "35790"]


def grid_paper(test_digits, rows: list[str], *, seed: int, grain: float, cell: int = 40) -> np.ndarray:
    """Bold MNIST digits written a cell and a third tall on squared paper: one-pixel grey lines that
    wave by 3 px, blots of grain ``grain`` grey levels deep, a little blur and noise."""
    rng = np.random.default_rng(seed)
    h, w = cell * (len(rows) * 2 + 1), cell * 14
    page = np.full((h, w), 225, np.uint8)
    t = np.arange(0, max(h, w), 4)
    for x in range(cell // 2, w, cell):
        cv2.polylines(page, [np.stack([x + 3 * np.sin(t[t < h] / 23 + x), t[t < h]], 1).astype(np.int32)],
                      False, 150, 1)
    for y in range(cell // 2, h, cell):
        cv2.polylines(page, [np.stack([t[t < w], y + 3 * np.sin(t[t < w] / 29 + y)], 1).astype(np.int32)],
                      False, 150, 1)
    for r, number in enumerate(rows):
        x = cell
        for d in number:
            ink = cv2.dilate(mnist_digit(test_digits, int(d), int(1.3 * cell)), np.ones((3, 3), np.uint8))
            y = cell * (2 * r + 1) - cell // 4
            window = page[y : y + ink.shape[0], x : x + ink.shape[1]]
            window[:] = np.minimum(window, 225 - ink * 0.8).astype(np.uint8)
            x += ink.shape[1] + cell // 2 + int(rng.integers(0, cell // 2))
    page = cv2.GaussianBlur(page, (0, 0), 0.7).astype(np.float32)
    blots = cv2.GaussianBlur(rng.normal(0, 1, page.shape).astype(np.float32), (0, 0), 2.5)
    page -= np.clip(blots / blots.std() - 1.0, 0, None) * grain
    return np.clip(page + rng.normal(0, 3, page.shape), 0, 255).astype(np.uint8)


def test_grid_papers_lines_and_grain_are_not_read_as_digits(test_digits, shipped_model):
    # Three sheets whose lines and blots were read as 1s and 3s (4 edits in 71 digits without the step).
    truth = "".join(ROWS)
    pages = [grid_paper(test_digits, ROWS, seed=s, grain=g) for s, g in ((1, 35), (1, 50), (2, 50))]
    off = ReaderParams(faint_width=0)

    def edits(page: np.ndarray, params: ReaderParams | None = None) -> int:
        kwargs = {"params": params} if params else {}
        return edit_distance(read(page, model=shipped_model, **kwargs).text.replace(" ", ""), truth)

    on, without = [edits(p) for p in pages], [edits(p, off) for p in pages]
    assert sum(on) <= 1, on
    assert sum(without) >= sum(on) + 2, (on, without)


def test_a_pale_thin_digit_read_clearly_stays(test_digits, shipped_model):
    # A fine-liner's 7 among marker digits, its strokes a fifth as wide and a third as dark as theirs
    # (under faint_width and faint_dark), is read as a 7 (0.89): it stays.
    page = grid_paper(test_digits, ["4096"], seed=0, grain=0)
    seven = cv2.erode(mnist_digit(test_digits, 7, 52), np.ones((2, 2), np.uint8))
    window = page[30:82, 420 : 420 + seven.shape[1]]
    window[:] = np.minimum(window, 225 - seven * 0.3).astype(np.uint8)
    assert read(page, model=shipped_model).text.replace(" ", "") == "40967"



def bent_sudoku(test_digits, *, bend: int, cell: int = 50) -> tuple[np.ndarray, str]:
    """A sudoku whose bold box lines are straight but for their first two cells, bent ``bend`` px aside
    where the pen started; thin grey cell lines; MNIST givens; and its label."""
    side = 9 * cell + 40
    page = np.full((side, side), 240, np.uint8)
    for k in range(10):
        at = 20 + k * cell
        if k % 3:
            cv2.line(page, (20, at), (side - 20, at), 150, 1)
            cv2.line(page, (at, 20), (at, side - 20), 150, 1)
            continue
        ys = np.arange(20, side - 20)
        start = 20 + 2 * cell
        xs = at + np.where(ys < start, bend * ((start - ys) / (2 * cell)) ** 2, 0)
        cv2.polylines(page, [np.stack([xs, ys], 1).astype(np.int32)], False, 30, 4)
        cv2.line(page, (20, at), (side - 20, at), 30, 4)
    for r, c, d in GIVENS:
        ink = mnist_digit(test_digits, d, int(0.6 * cell))
        _paste(page, ink, 20 + c * cell + (cell - ink.shape[1]) // 2, 20 + r * cell + cell // 5)
    return page, "".join(str(d) for _, _, d in GIVENS)


def test_a_hand_drawn_box_lines_bent_top_is_not_read_as_a_1(test_digits, shipped_model):
    # The bent tops, three digits tall, were read as 1s before the first row (2 edits or more); now none.
    off = ReaderParams(segment=SegmentParams(run_on_reach=0))
    for bend in (10, 14, 18):
        page, truth = bent_sudoku(test_digits, bend=bend)
        assert read(page, model=shipped_model).text.replace(" ", "") == truth
        assert edit_distance(read(page, model=shipped_model, params=off).text.replace(" ", ""), truth) >= 2
