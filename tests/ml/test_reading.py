import io
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from ml import ImageError, annotate, decode_image, read
from ml.reading.params import ReaderParams, Steps
from ml.synth.compose import page_from_text
from tests.conftest import iou


def test_a_page_of_mnist_test_digits_is_read_line_by_line(test_digits, shipped_model):
    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["9021", "3345678"], seed=11, digit_height=48)
    reading = read(page, model=shipped_model)
    assert reading.line_texts == truth["lines"]
    for got, want in zip(reading.digits, truth["digits"]):
        assert iou(got.box, want["box"]) > 0.75


def test_blank_page_reads_as_empty(shipped_model):
    reading = read(np.full((300, 400, 3), 250, np.uint8), model=shipped_model)
    assert reading.text == "" and reading.digits == []


def test_exif_rotated_photo_is_read_upright(test_digits, shipped_model):
    images, labels = test_digits
    page, truth = page_from_text(images, labels, ["507"], seed=4, digit_height=60)
    # Store the page rotated 90° clockwise with EXIF orientation 8 ("rotate 90 CW to display").
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(page, k=-1)))
    exif = Image.Exif()
    exif[0x0112] = 8
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", quality=95, exif=exif)
    upright = decode_image(buf.getvalue())
    assert upright.shape[:2] == page.shape
    assert read(upright, model=shipped_model).text == "507"


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"GIF89a not really", "not a readable image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not a readable image"),
])
def test_undecodable_bytes_raise_image_error(data, message):
    with pytest.raises(ImageError, match=message):
        decode_image(data)


def test_truncated_jpeg_is_reported_as_corrupt():
    buf = io.BytesIO()
    Image.fromarray(np.full((200, 200), 128, np.uint8)).save(buf, format="JPEG")
    with pytest.raises(ImageError, match="corrupt or truncated"):
        decode_image(buf.getvalue()[:300])


def test_too_many_pixels_is_refused_before_decoding():
    buf = io.BytesIO()
    Image.new("L", (3000, 2000)).save(buf, format="PNG")
    with pytest.raises(ImageError, match="6,000,000 pixels"):
        decode_image(buf.getvalue(), max_pixels=5_000_000)


def test_annotate_draws_red_boxes_and_green_digits_without_touching_the_input(test_digits, shipped_model):
    images, labels = test_digits
    page, _ = page_from_text(images, labels, ["47"], seed=1, digit_height=60)
    colour = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    before = colour.copy()
    reading = read(colour, model=shipped_model)
    out = annotate(colour, reading)
    assert np.array_equal(colour, before)
    x, y, w, h = reading.digits[0].box
    edge = out[y, x : x + w]
    assert (edge == [0, 0, 255]).all(axis=1).mean() > 0.9  # top edge of the box is red
    green = (out[:, :, 1] > 120) & (out[:, :, 0] < 80) & (out[:, :, 2] < 80)
    assert green.sum() > 30


def test_digits_under_the_threshold_are_marked_uncertain(test_digits, shipped_model):
    images, labels = test_digits
    page, _ = page_from_text(images, labels, ["1234567890"], seed=8, digit_height=50)
    blob = page.copy()
    cv2.circle(blob, (blob.shape[1] - 30, 30), 18, 0, -1)  # a scribbled-out blot beside the number
    # Put the threshold at the median confidence: some digits fall under it, some don't.
    threshold = float(np.median([d.confidence for d in read(blob, model=shipped_model).digits]))
    reading = read(blob, model=shipped_model, params=ReaderParams(uncertain_below=threshold))
    assert any(d.uncertain for d in reading.digits) and any(not d.uncertain for d in reading.digits)
    for d in reading.digits:
        assert d.uncertain == (d.confidence < threshold)
        assert len(d.alternatives) == 3 and d.alternatives[0]["confidence"] >= d.alternatives[1]["confidence"]


def test_a_digit_the_line_reader_confirmed_or_overruled_comes_first_in_its_alternatives(shipped_model):
    # The sample page: the line reader confirms most digits at a higher confidence than the
    # classifier's (a 7 at 0.9648 read as 0.9996); the alternatives say the same, and stay a distribution.
    reading = read("docs/samples/digits.png", model=shipped_model)
    for d in reading.to_dict()["digits"]:
        best = d["alternatives"][0]
        assert (best["digit"], best["confidence"]) == (d["digit"], d["confidence"]), d
        named = [a["digit"] for a in d["alternatives"]]
        assert len(named) <= 3 and len(set(named)) == len(named)
        assert sum(a["confidence"] for a in d["alternatives"]) <= 1.0 + 1e-3, d
    classifier_only = read("docs/samples/digits.png", model=shipped_model, steps=Steps(lines=False))
    raised = sum(a.confidence > b.confidence for a, b in zip(reading.digits, classifier_only.digits))
    assert raised > 0  # the line reader did raise some (what made the two disagree before)


def test_importing_ml_does_not_import_django():
    code = "import sys, ml; from ml import read, annotate, load_checkpoint; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _mnist_digit(images, labels, digit, index=0):
    return images[np.flatnonzero(labels == digit)[index]]


@pytest.mark.parametrize("first, second, index", [(4, 7, 3), (2, 8, 2)])
def test_a_touching_pair_is_split_and_read_as_two_digits(test_digits, shipped_model, first, second, index):
    from ml.reading.segment import segment
    from ml.synth.compose import compose

    images, labels = test_digits
    pair = [_mnist_digit(images, labels, first, index), _mnist_digit(images, labels, second, index)]
    page, _ = compose([pair], [[first, second]], digit_height=80, gap=-0.15)
    assert len(segment(page).boxes) == 1  # the strokes overlap: one connected component
    reading = read(page, model=shipped_model)
    assert reading.text == f"{first}{second}"
    assert reading.digits[0].box[0] + reading.digits[0].box[2] <= reading.digits[1].box[0] + 2


def test_a_wide_single_digit_is_not_split(test_digits, shipped_model):
    images, labels = test_digits
    digit = _mnist_digit(images, labels, 2, 5).astype(np.float32)
    wide = cv2.resize(digit, (56, 28), interpolation=cv2.INTER_LINEAR)  # a 2 written twice as wide
    page = np.full((200, 300), 255, np.uint8)
    page[40:40 + 112, 40:40 + 224] = (255 - cv2.resize(wide, (224, 112))).clip(0, 255).astype(np.uint8)
    assert read(page, model=shipped_model).text == "2"
