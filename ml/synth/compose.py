"""Pages of handwritten numbers composed from MNIST **test** digits, with ground truth.

Used for the shipped sample image and by tests that need images with known digits, boxes and reading
order. Each digit is scaled to the requested height, placed on paper with spacing, and its true box is
the bounding box of its ink as placed.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def _ink_bbox(img: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(img.any(axis=1))[0], np.nonzero(img.any(axis=0))[0]
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def compose(lines: list[list[np.ndarray]], labels: list[list[int]], *, digit_height: int = 60,
            margin: int = 40, gap: float = 0.35, line_gap: float = 0.6, paper: int = 255,
            ink: int = 20, seed: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    """Lay out digit images (MNIST-style, ink high, uint8) as lines on a grey page.

    ``gap`` and ``line_gap`` are fractions of the digit height. Returns the page (uint8, paper bright,
    ink dark) and the truth: ``{"lines": ["123", ...], "digits": [{"digit", "box", "line"}, ...]}``.

    >>> import numpy as np
    >>> page, truth = compose([[np.pad(np.ones((20, 8), np.uint8) * 255, 4)]], [[1]], digit_height=40)
    >>> truth["lines"], truth["digits"][0]["box"][3]
    (['1'], 40)
    """
    rng = np.random.default_rng(seed)
    placed: list[tuple[np.ndarray, int, int, int, int]] = []  # (ink, x, y, digit, line)
    y = margin
    width = 0
    for line_no, (images, digits) in enumerate(zip(lines, labels)):
        x = margin
        for img, digit in zip(images, digits):
            bx, by, bw, bh = _ink_bbox(img)
            crop = img[by : by + bh, bx : bx + bw]
            scale = digit_height / bh
            crop = cv2.resize(crop, (max(1, round(bw * scale)), digit_height), interpolation=cv2.INTER_LINEAR)
            jitter = int(rng.integers(-digit_height // 12, digit_height // 12 + 1))
            placed.append((crop, x, y + jitter + digit_height // 10, digit, line_no))
            x += crop.shape[1] + int(gap * digit_height)
        width = max(width, x)
        y += int(digit_height * (1.2 + line_gap))
    height = y + margin
    canvas = np.zeros((height, width + margin), np.float32)
    truth_digits = []
    for crop, x, y0, digit, line_no in placed:
        region = canvas[y0 : y0 + crop.shape[0], x : x + crop.shape[1]]
        np.maximum(region, crop.astype(np.float32) / 255, out=region)
        bx, by, bw, bh = _ink_bbox(crop > 40)
        truth_digits.append({"digit": int(digit), "box": [x + bx, y0 + by, bw, bh], "line": line_no})
    page = (paper - canvas * (paper - ink)).round().clip(0, 255).astype(np.uint8)
    truth = {"lines": ["".join(str(d) for d in row) for row in labels], "digits": truth_digits}
    return page, truth


def pick_digits(images: np.ndarray, labels: np.ndarray, text: str, *, seed: int = 0) -> list[np.ndarray]:
    """For each character of ``text``, a random MNIST image of that digit.

    >>> from ml.data import load_mnist
    >>> test = load_mnist()[1]
    >>> len(pick_digits(test.images.numpy(), test.labels.numpy(), "2026"))
    4
    """
    rng = np.random.default_rng(seed)
    out = []
    for ch in text:
        candidates = np.flatnonzero(labels == int(ch))
        out.append(images[rng.choice(candidates)])
    return out


def page_from_text(images: np.ndarray, labels: np.ndarray, text_lines: list[str], *, seed: int = 0,
                   **layout: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """A page that writes ``text_lines`` (digits only) with random MNIST samples of each digit.

    >>> from ml.data import load_mnist
    >>> test = load_mnist()[1]
    >>> images, labels = test.images.numpy(), test.labels.numpy()
    >>> page, truth = page_from_text(images, labels, ["75013", "42"], digit_height=40)
    >>> truth["lines"], len(truth["digits"]), page.dtype
    (['75013', '42'], 7, dtype('uint8'))
    """
    digit_lines = [pick_digits(images, labels, t, seed=seed + i) for i, t in enumerate(text_lines)]
    label_lines = [[int(c) for c in t] for t in text_lines]
    return compose(digit_lines, label_lines, seed=seed, **layout)
