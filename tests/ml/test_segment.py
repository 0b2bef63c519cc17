import cv2
import numpy as np
import pytest

from ml.reading.ink import shrink
from ml.reading.segment import segment
from ml.synth.compose import page_from_text
from tests.conftest import iou


def _boxes(seg):
    return [[seg.image_box(b) for b in line] for line in seg.lines]


def test_boxes_match_the_known_digits_in_reading_order(test_digits):
    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["31415", "2718"], seed=7, digit_height=60)
    seg = segment(page)
    assert [len(line) for line in seg.lines] == [5, 4]
    found = [b for line in _boxes(seg) for b in line]
    for got, want in zip(found, truth["digits"]):
        assert iou(got, want["box"]) > 0.75, (got, want)


def test_three_lines_come_out_top_to_bottom_even_when_shorter_lines_come_first(test_digits):
    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["12", "345678", "9"], seed=2, digit_height=50)
    seg = segment(page)
    assert [len(line) for line in seg.lines] == [2, 6, 1]
    ys = [line[0].y for line in seg.lines]
    assert ys == sorted(ys)


def test_blank_and_noisy_paper_has_no_digits(rng):
    blank = np.full((400, 600), 235, np.uint8)
    assert segment(blank).boxes == []
    noisy = np.clip(blank + rng.normal(0, 6, blank.shape), 0, 255).astype(np.uint8)
    assert segment(noisy).boxes == []


def test_specks_and_a_ruled_line_are_not_digits(test_digits, rng):
    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["4096"], seed=5, digit_height=70)
    page = page.copy()
    h, w = page.shape
    for _ in range(15):  # pencil specks, 2-3 px
        y, x = int(rng.integers(0, h - 3)), int(rng.integers(0, w - 3))
        page[y : y + 3, x : x + 3] = 60
    cv2.line(page, (5, h - 12), (w - 5, h - 12), 90, 2)  # a ruled line under the number
    seg = segment(page)
    assert len(seg.boxes) == 4


def test_blue_ink_on_tinted_paper_under_uneven_light_is_found(test_digits):
    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["8051"], seed=9, digit_height=64)
    ink = 1 - page.astype(np.float32) / 255
    h, w = page.shape
    light = np.linspace(0.75, 1.0, w)[None, :] * np.ones((h, 1))  # darker on the left
    paper = np.array([200, 235, 245], np.float32)  # yellowish paper, BGR
    pen = np.array([160, 60, 30], np.float32)  # blue ballpoint, BGR
    colour = (paper * (1 - ink[..., None]) + pen * ink[..., None]) * light[..., None]
    seg = segment(colour.clip(0, 255).astype(np.uint8))
    assert len(seg.boxes) == 4


@pytest.mark.parametrize("shape, scale", [((1200, 1600), 0.3), ((1201, 1599), 0.26), ((600, 800), 0.5),
                                          ((300, 400), 0.8)])
def test_shrink_by_halvings_matches_an_area_resize(rng, shape, scale):
    # A smooth page with sharp strokes: what shrink sees.
    gray = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 3)
    cv2.line(gray, (10, 10), (shape[1] - 20, shape[0] - 30), 0, 4)
    size = (round(shape[1] * scale), round(shape[0] * scale))
    direct = cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    shrunk = shrink(gray, scale)
    assert shrunk.shape == direct.shape[:2] and shrunk.dtype == np.uint8
    assert np.abs(shrunk - direct).mean() < 2.0
