"""Images and people for the web and worker tests: digits drawn with OpenCV, uploads sent like a browser."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import cv2
import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def digits_image(lines: tuple[str, ...] = ("123", "45"), *, scale: float = 3.0) -> np.ndarray:
    """A white BGR page with ``lines`` written in a thick pen-like font, one under another."""
    height = int(90 * scale / 3) * len(lines) + 40
    width = int(60 * scale / 3) * max(len(x) for x in lines) + 60
    page = np.full((height, width, 3), 255, np.uint8)
    for i, text in enumerate(lines):
        y = 30 + int(90 * scale / 3) * (i + 1) - 20
        for j, ch in enumerate(text):
            x = 30 + int(60 * scale / 3) * j
            cv2.putText(page, ch, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale * 0.7, (20, 20, 20),
                        int(scale * 2), cv2.LINE_AA)
    return page


def page_with_a_squiggle() -> tuple[np.ndarray, list[list[int]], list[int]]:
    """Digits "123" over "45" and, after the 5, a squiggle that is no digit: the page, the digits' boxes as
    the segmenter finds them (image pixels, reading order), and the squiggle's box."""
    from ml.reading.segment import segment

    page = digits_image(("123", "45"))
    points = [(165 + 7 * k, 168 + (9 if k % 2 else -9)) for k in range(6)]
    for a, b in zip(points, points[1:]):
        cv2.line(page, a, b, (20, 20, 20), 5)
    seg = segment(page)
    boxes = [seg.image_box(box) for line in seg.lines for box in line]
    digits = [box for box in boxes if box[0] < 150 or box[1] < 120]
    squiggle = next(box for box in boxes if box[0] > 150 and box[1] > 120)
    assert len(digits) == 5, boxes
    return page, digits, squiggle


def png_bytes(image: np.ndarray | None = None) -> bytes:
    ok, data = cv2.imencode(".png", digits_image() if image is None else image)
    assert ok
    return data.tobytes()


def jpeg_bytes(image: np.ndarray | None = None, *, exif_orientation: int | None = None) -> bytes:
    rgb = cv2.cvtColor(digits_image() if image is None else image, cv2.COLOR_BGR2RGB)
    buffer = io.BytesIO()
    pil = Image.fromarray(rgb)
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        pil.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    else:
        pil.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def uploaded(data: bytes, name: str = "digits.png", content_type: str = "image/png") -> SimpleUploadedFile:
    """What Django hands a view for a file field: the client's name and type, which we must not trust."""
    return SimpleUploadedFile(name, data, content_type=content_type)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# What a translated run log may keep in Latin letters: the families' and studies' codes, MNIST, file and
# model names, upload ids, and the "worker" of "training worker".
LOG_TOKENS = re.compile(r"\b(?:cnn-run\d+|tiny-cnn|[0-9a-f-]{36}|MNIST_DIR|[\w-]+\.(?:png|md|json)|"
                        r"logreg|mlp|knn|svm|rnn|cnn|MNIST|worker)\b")


def english_left(line: str) -> list[str]:
    """The English words left in a line that should be in Chinese (three letters or more)."""
    return re.findall(r"[A-Za-z]{3,}", LOG_TOKENS.sub("", line))


def untranslated_log_lines(run) -> list[str]:
    """The lines of ``run``'s log that a Chinese reader would still read in English."""
    from django.utils import translation

    from web.registry.log_words import log_lines

    with translation.override("zh-hans"):
        return [line for _time, line in log_lines(run) if english_left(line)]


def csv_records(response) -> list[dict]:
    """A CSV export read as a program would: UTF-8 after its byte-order mark, each cell stripped (the
    reading's cells start with a tab that keeps a spreadsheet from taking them for numbers)."""
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), body[:10]
    return [{k: v.strip() for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))]
