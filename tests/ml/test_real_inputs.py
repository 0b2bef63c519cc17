"""What people upload that our generated pages are not (issue 17): light ink on a dark ground, transparent
and 16-bit PNGs, a page photographed on a desk and askew, and a labelled set of real images scored."""

import io
import json

import cv2
import numpy as np
import pytest
from PIL import Image

from ml import decode_image, read
from ml.reading.ink import DARK_INK, EITHER, LIGHT_INK, polarity, to_gray
from ml.reading.params import ReaderParams, SegmentParams, Steps
from ml.synth.compose import page_from_text
from tests.ml.test_cli import run_ml


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def page(test_digits):
    images, labels = test_digits
    return page_from_text(images, labels, ["4096", "2718"], seed=5, digit_height=60)


def test_mnist_digits_as_stored_white_on_black_read_as_well_as_inverted(test_digits, shipped_model):
    images, labels = test_digits
    sample = range(0, 3000, 10)  # 300 test digits
    as_stored = [read(png(images[i]), model=shipped_model).text == str(labels[i]) for i in sample]
    inverted = [read(png(255 - images[i]), model=shipped_model).text == str(labels[i]) for i in sample]
    assert np.mean(as_stored) >= 0.98 and np.mean(inverted) >= 0.98
    assert polarity(images[0]) == LIGHT_INK and polarity(255 - images[0]) == DARK_INK
    # Without looking which way round the ink is, a digit as stored is not read.
    blind = [read(png(images[i]), model=shipped_model, steps=Steps(polarity=False)).text == str(labels[i])
             for i in sample[:50]]
    assert np.mean(blind) < 0.5


def test_strokes_on_a_transparent_canvas_are_read_whatever_their_colour(page, shipped_model):
    grey, truth = page
    for colour in (0, 255):  # black strokes (most apps) and white ones
        rgba = np.zeros(grey.shape + (4,), np.uint8)
        rgba[..., :3], rgba[..., 3] = colour, 255 - grey  # the strokes opaque, the rest transparent
        assert read(png(rgba, "RGBA"), model=shipped_model).line_texts == truth["lines"]
    # Flattened onto a contrasting background, not onto the transparent pixels' black.
    rgba[..., :3] = 0
    assert decode_image(png(rgba, "RGBA"))[0, 0].tolist() == [255, 255, 255]


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped(page, shipped_model):
    grey, truth = page
    data = png(grey.astype(np.uint16) * 257)
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    assert np.abs(decode_image(data)[..., 0].astype(int) - grey).max() <= 1
    assert read(data, model=shipped_model).line_texts == truth["lines"]


def test_chalk_on_a_dark_board_is_read(page, shipped_model, rng):
    grey, truth = page
    chalk = (255 - grey).astype(np.float32)[..., None] / 255 * rng.uniform(0.7, 1.0, grey.shape)[..., None]
    board = np.array([40, 70, 45], np.float32) * (1 - chalk) + np.array([225, 230, 230], np.float32) * chalk
    photo = np.clip(board + rng.normal(0, 8, board.shape), 0, 255).astype(np.uint8)
    assert polarity(to_gray(photo)) in (LIGHT_INK, EITHER)
    assert read(photo, model=shipped_model).line_texts == truth["lines"]


def on_a_desk(grey: np.ndarray, angle: float) -> np.ndarray:
    """``grey`` as a sheet a third of the frame, its edge shadowed, on a dark desk, turned ``angle``°."""
    h, w = grey.shape
    desk = np.full((3 * h, 3 * w, 3), (70, 75, 80), np.uint8)
    desk[h : 2 * h, w : 2 * w] = grey[..., None]
    cv2.rectangle(desk, (w, h), (2 * w - 1, 2 * h - 1), (40, 40, 40), 3)
    turn = cv2.getRotationMatrix2D((1.5 * w, 1.5 * h), angle, 1.0)
    return cv2.GaussianBlur(cv2.warpAffine(desk, turn, (3 * w, 3 * h), borderValue=(70, 75, 80)), (3, 3), 0)


def test_a_sheet_photographed_on_a_desk_is_read_without_its_edges(page, shipped_model):
    grey, truth = page
    for angle in (0, 12):
        assert read(on_a_desk(grey, angle), model=shipped_model).line_texts == truth["lines"]
    # The paper's light estimated coarsely spills over the sheet's edge onto the desk, whose dark strip
    # then reads as ink: the fine closing (paper_near) keeps it out, and the probe, measuring neither
    # what touches the frame (clear_of_edge) nor what surrounds other ink (container_holds), does not
    # take it for the digits' size.
    coarse = ReaderParams(segment=SegmentParams(paper_near=0.0, probe_near=0.0, clear_of_edge=10**6,
                                                container_holds=10**6))
    assert read(on_a_desk(grey, 12), model=shipped_model, params=coarse).line_texts != truth["lines"]


def test_a_long_straight_pen_stroke_is_a_digit_not_the_edge_of_the_paper(shipped_model):
    # A 1 drawn on the site's 600×240 canvas: one straight line, far longer than a digit is wide, with
    # the same paper on both sides. (Searching it for paper edges once erased half of it.)
    canvas = np.full((240, 600, 3), 255, np.uint8)
    for top, length, width in ((40, 156, 14), (48, 130, 14), (30, 180, 14)):
        drawn = canvas.copy()
        cv2.line(drawn, (300, top), (300, top + length), (17, 17, 17), width, cv2.LINE_AA)
        assert read(drawn, model=shipped_model).text == "1", (top, length, width)


def test_lines_of_a_page_photographed_askew_stay_whole(page, shipped_model):
    grey, truth = page
    reading = read(on_a_desk(grey, 25), model=shipped_model)
    assert [len(line) for line in reading.line_texts] == [4, 4]
    assert reading.line_texts[0] == truth["lines"][0]


def test_two_columns_of_single_digits_are_read_row_by_row(test_digits, shipped_model):
    # Two digits a row, far apart, of uneven sizes and the rows a little uneven (the boxes of a real
    # photo of such a sheet): the one neighbour to the right within reach of one digit is the one
    # diagonally below, which once set the lines' angle at 22° and made every digit a line of its
    # own, read column by column.
    images, labels = test_digits
    page = np.full((800, 620), 236, np.uint8)
    boxes = [(40, 26, 27, 40), (146, 18, 28, 37), (38, 116, 22, 32), (140, 104, 38, 38), (36, 196, 18, 43),
             (135, 198, 23, 44)]
    picks = [int(np.flatnonzero(labels == d)[0]) for d in (7, 7, 3, 5, 6, 7)]
    for k, (x, y, w, h) in zip(picks, boxes):
        ys, xs = np.nonzero(images[k] > 40)
        ink = images[k][ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        ink = cv2.resize(ink, (3 * w, 3 * h), interpolation=cv2.INTER_CUBIC)
        x, y = 3 * x + 60, 3 * y + 60
        page[y : y + 3 * h, x : x + 3 * w] = np.minimum(page[y : y + 3 * h, x : x + 3 * w], 255 - ink)
    assert read(page, model=shipped_model).line_texts == ["77", "35", "67"]


def _write(page: np.ndarray, digit: np.ndarray, x: int, y: int, size: int = 60) -> None:
    ink = cv2.resize(255 - digit, (size, size), interpolation=cv2.INTER_CUBIC)
    page[y : y + size, x : x + size] = np.minimum(page[y : y + size, x : x + size], ink)


def test_a_tables_rows_are_read_as_its_cells_numbers(test_digits, shipped_model):
    images, labels = test_digits
    page = np.full((360, 900), 236, np.uint8)
    k, truth = 0, []
    for row in range(3):  # three rows of three two-digit numbers, about two digit heights apart
        for cell in range(3):
            x, y = 60 + cell * 180, 50 + row * 100
            for d in range(2):
                _write(page, images[k], x + d * 42, y)
                k += 1
            truth.append(f"{labels[k - 2]}{labels[k - 1]}")
    assert read(page, model=shipped_model).line_texts == truth
    # One row alone, its numbers as far apart, stays one line (a digit lost from a number leaves
    # such a gap), and so do digits written one to a box of a comb field.
    assert read(page[:150], model=shipped_model).line_texts == ["".join(truth[:3])]
    comb = np.full((150, 900), 236, np.uint8)
    for d in range(6):
        _write(comb, images[20 + d], 60 + d * 130, 40)
    assert read(comb, model=shipped_model).line_texts == ["".join(str(labels[20 + d]) for d in range(6))]
    # Numbers far apart on one row (a sum's terms) are lines of their own.
    wide = np.full((150, 1100), 236, np.uint8)
    for d in range(4):
        _write(wide, images[d], 60 + (d % 2) * 42 + (d // 2) * 560, 40)
    assert read(wide, model=shipped_model).line_texts == [truth[0], f"{labels[2]}{labels[3]}"]


def test_a_digit_drawn_with_a_one_pixel_line_is_read(shipped_model):
    # A paint program's 1-px pen on a small canvas: the image is not shrunk, and scaled to MNIST's
    # 20 px the strokes faded to an eighth of their strength, read as nothing.
    shapes = {"4": [[(55, 10), (20, 110), (95, 110)], [(75, 60), (78, 170)]],
              "7": [[(20, 20), (100, 20), (45, 170)]],
              "2": [[(25, 45), (45, 18), (80, 20), (92, 55), (70, 100), (22, 168), (105, 165)]],
              "0": [[(60, 15), (95, 40), (100, 120), (60, 170), (22, 125), (20, 45), (60, 15)]]}
    unthickened = ReaderParams(segment=SegmentParams(crop_thin=0.0))
    for digit, strokes in shapes.items():
        canvas = np.zeros((187, 131), np.uint8)
        for stroke in strokes:
            cv2.polylines(canvas, [np.array(stroke, np.int32)], False, 255, 1)
        assert read(canvas, model=shipped_model).text == digit
        assert read(255 - canvas, model=shipped_model).text == digit
        assert read(canvas, model=shipped_model, params=unthickened).text == ""


def test_score_set_scores_a_labelled_folder_per_source(tmp_path, page):
    grey, truth = page
    cv2.imwrite(str(tmp_path / "page.png"), grey)
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((80, 80), 255, np.uint8))
    (tmp_path / "labels.csv").write_text("file,digits,source_repo,kind\n"
                                         f"page.png,{' '.join(truth['lines'])},a/one,scan\n"
                                         "blank.png,7,b/two,photo\n")
    scored = run_ml("score-set", str(tmp_path), "--no-tesseract", "--out", str(tmp_path / "score.json"))
    assert scored.returncode == 0, scored.stderr
    result = json.loads((tmp_path / "score.json").read_text())
    assert result["digitscan"]["images"] == 2 and result["digitscan"]["exact_images"] == 0.5
    assert result["by_source"]["a/one"]["digit_accuracy"] == 1.0
    assert result["by_source"]["b/two"]["digit_accuracy"] == 0.0
    assert [f["image"] for f in result["failures"]] == ["blank.png"]
    assert "| source a/one | 1 | 8 | 100.00 % |" in scored.stdout


def test_separators_are_reported_where_they_stand_but_are_never_digits(test_digits, shipped_model):
    from ml.synth.scenes import make_scene

    images, labels = test_digits
    for seed in (0, 3, 5):  # cheques: a date dd.mm.yyyy and an amount 63,696.51 in a printed box
        page, truth, _ = make_scene(images, labels, seed=seed, kind="cheque")
        reading = read(page, model=shipped_model)
        date, amount = truth["lines"]
        assert reading.line_texts == truth["lines"]  # digits only in text and lines
        assert reading.display_lines == [f"{date[:2]}.{date[2:4]}.{date[4:]}",
                                         f"{int(amount[:-2]):,}.{amount[-2:]}"]
        record = reading.to_dict()
        assert record["display"] == reading.display_lines and record["text"] == " ".join(truth["lines"])
        assert {s["char"] for s in record["separators"]} == {".", ","}
        assert all(s["line"] in (0, 1) and len(s["box"]) == 4 for s in record["separators"])
    # A date written with dashes.
    grey, truth = page_from_text(images, labels, ["24051997"], seed=2, digit_height=50, gap=0.8)
    grey = grey.copy()
    boxes = [d["box"] for d in truth["digits"]]
    for left, right in ((boxes[1], boxes[2]), (boxes[3], boxes[4])):
        y = left[1] + left[3] // 2
        cv2.line(grey, (left[0] + left[2] + 6, y), (right[0] - 6, y), 20, 4)
    reading = read(grey, model=shipped_model)
    assert reading.text == "24051997" and reading.display_lines == ["24-05-1997"]
    assert read(grey, model=shipped_model, steps=Steps(separators=False)).to_dict()["separators"] == []


def test_the_dots_of_a_dotted_line_written_on_are_no_separators(test_digits, shipped_model):
    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["54321"], seed=3, digit_height=60)
    page = page.copy()
    foot = int(np.median([d["box"][1] + d["box"][3] for d in truth["digits"]])) + 4
    for x in range(10, page.shape[1] - 10, 16):  # a form's dotted line, under and beyond the number
        cv2.circle(page, (x, foot), 2, 0, -1)
    reading = read(page, model=shipped_model)
    assert reading.text == "54321" and reading.display_lines == ["54321"] and reading.separators == []
    # Without the dotted-line rule, its dots between the digits were read as decimal points.
    loose = ReaderParams(segment=SegmentParams(dotted_outside=99, dotted_gap=99))
    assert read(page, model=shipped_model, params=loose).display_lines[0].count(".") >= 3


def coloured_paper_closeup(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A close-up of one digit in a dark blue-green marker on yellow-green paper whose grain shows in
    the blue channel (the paper is dark there), as a phone photo of such a card is."""
    h, w = 170, 150
    ink = cv2.resize(digit, (w - 30, h - 30), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    ink = np.pad(ink, ((15, 15), (15, 15)))
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.5)
    grain *= 45 / grain.std()
    paper = np.empty((h, w, 3), np.float32)
    paper[..., 0], paper[..., 1], paper[..., 2] = 112 + grain, 184 + grain / 6, 178 + grain / 6
    photo = paper * (1 - ink[..., None]) + np.array([70, 60, 25], np.float32) * ink[..., None]
    return np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)


def test_a_digit_on_yellow_green_paper_is_read_not_the_papers_grain(test_digits, shipped_model, rng):
    images, labels = test_digits
    sample = [int(np.flatnonzero(labels == d)[0]) for d in (0, 2, 3, 5, 8, 9)]
    photos = [coloured_paper_closeup(images[i], rng) for i in sample]
    truth = [str(labels[i]) for i in sample]
    assert [read(p, model=shipped_model).text for p in photos] == truth
    # The blue channel, in which the paper is dark and grainy, kept: the grain is read as digits.
    every = ReaderParams(segment=SegmentParams(paper_channel=0.0))
    assert sum(read(p, model=shipped_model, params=every).text == t for p, t in zip(photos, truth)) <= 1


def test_an_image_denser_than_the_work_budget_stops_after_segmenting_with_a_reason(shipped_model):
    # A page tiled with small digits: the budget counts boxes found before any is classified.
    from ml.reading.reader import TooDenseError

    page = np.full((400, 600), 255, np.uint8)
    for y in range(30, 400, 30):
        for x in range(8, 590, 18):
            cv2.putText(page, str((x + y) % 10), (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 2)
    with pytest.raises(TooDenseError, match="crop it into parts"):
        read(page, model=shipped_model, max_boxes=100)
    assert len(read(page, model=shipped_model).digits) > 100  # under the default budget it is read


def _written(text: str, face: int, *, scale: float = 2.6, thick: int = 4) -> np.ndarray:
    """``text`` written across a white page in one of OpenCV's faces, a 4-px pen, as grey pixels."""
    (w, h), base = cv2.getTextSize(text, face, scale, thick)
    page = np.full((h + base + 80, w + 80), 255, np.uint8)
    cv2.putText(page, text, (40, h + 40), face, scale, 0, thick, cv2.LINE_AA)
    return page


def test_the_strokes_of_a_w_cut_apart_are_not_read_as_ones(shipped_model):
    # A printed label's or a word's w (or m): read whole it is not a digit, so it is cut at its column
    # minima, and each of its strokes reads as a confident 1 ("Marks awarded" on a real form read
    # 111015, "www" 1111111141). Touching digits cut apart are seldom three 1s.
    for word, fewer in (("www", 8), ("wave", 4), ("Marks awarded", 3)):
        page = _written(word, cv2.FONT_HERSHEY_SIMPLEX)
        now = read(page, model=shipped_model).text
        before = read(page, model=shipped_model, params=ReaderParams(stroke_ones=99)).text
        assert now.count("1") <= before.count("1") - fewer, (word, now, before)
    # Digits are not touched: three touching digits with one 1 among them still read.
    assert read(_written("2026 1999", cv2.FONT_HERSHEY_SIMPLEX), model=shipped_model).text == "20261999"
