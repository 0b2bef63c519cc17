"""Digit strings made from MNIST digits, looking like what the line reader meets: cheque amounts (a
security pattern of fine curves behind, ``.`` ``,`` ``-`` between groups, digits touching, a low-
resolution JPEG scan) and lines cut from photos and pages (plain paper, a ruled line, uneven light),
with what stands beside numbers on forms and worksheets and is not a digit: a printed label ("Student
ID number:") and its dotted leader, operators between numbers (``12 + 7 = 19``), the sides of table cells.

Each string is a grey uint8 crop (paper bright, ink dark) and the digits it shows. Which MNIST split
the digits come from is the caller's: training uses the training split, so the test split stays unseen.

>>> import numpy as np
>>> digits = np.zeros((10, 28, 28), np.uint8); digits[:, 6:22, 12:16] = 255
>>> crop, text = digit_string(np.random.default_rng(0), digits, np.arange(10))
>>> crop.dtype, crop.ndim, text.isdigit(), crop.shape[1] > crop.shape[0]
(dtype('uint8'), 2, True, True)
"""

from __future__ import annotations

import cv2
import numpy as np

from .symbols import operator, printed_label

# How many digits a string has: cheque amounts are mostly 3–7 digits, photo lines anything from 1 to 12.
LENGTHS = np.arange(1, 13)
LENGTH_WEIGHTS = np.array([4, 5, 8, 12, 14, 12, 10, 8, 6, 4, 3, 2], float) / 88
# How often a string has each kind of not-a-digit context (not tuned: a fifth of strings labelled,
# fewer with the rest, so most strings stay bare digits as on cheques).
LABEL_CHANCE = 0.2
LABEL_SIZE = (0.45, 0.9)  # the label's letters' height, in digit heights
LEADER_CHANCE = 0.08
OPERATOR_CHANCE = 0.1
CELL_SIDE_CHANCE = 0.06


def digit_string(rng: np.random.Generator, images: np.ndarray, labels: np.ndarray, *,
                 context: bool = False) -> tuple[np.ndarray, str]:
    """One synthetic line: random length, digits drawn from ``images`` (N, 28, 28, ink high) with their
    ``labels``, laid out with random gaps (some negative: touching digits), sizes, separators and
    slant, then rendered on a random ground (see the module's docstring); with ``context``, sometimes
    a printed label, a dotted leader, operators or cell sides beside the digits (not in the text).

    >>> digits = np.zeros((10, 28, 28), np.uint8); digits[:, 6:22, 12:16] = 255
    >>> sizes = {digit_string(np.random.default_rng(s), digits, np.arange(10))[0].shape[0] for s in range(20)}
    >>> min(sizes) >= 16, max(sizes) <= 160
    (True, True)
    """
    n = int(rng.choice(LENGTHS, p=LENGTH_WEIGHTS))
    idx = rng.integers(0, len(images), n)
    height = int(rng.integers(28, 56))
    ink = _layout(rng, [images[i] for i in idx], height, context)
    if context:
        ink = _labelled(rng, ink, height)
    ink = _slant(rng, ink)
    return _render(rng, ink, height), "".join(str(int(labels[i])) for i in idx)


def _digit(rng: np.random.Generator, image: np.ndarray, height: int) -> np.ndarray:
    rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
    if not len(rows):
        return np.zeros((height, height // 2), np.float32)
    crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255
    h = max(8, round(height * rng.uniform(0.8, 1.1)))
    w = max(2, round(crop.shape[1] * h / crop.shape[0] * rng.uniform(0.8, 1.3)))
    out = cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.35:  # thinner strokes, as a ballpoint pen writes: MNIST's are thick
        out = cv2.erode(out, np.ones((2, 2), np.uint8))
    return out


def _layout(rng: np.random.Generator, images: list[np.ndarray], height: int, context: bool) -> np.ndarray:
    """The digits side by side on an ink canvas (float, ink high), separators between groups."""
    digits = [_digit(rng, im, height) for im in images]
    marks = _separators(rng, len(digits), context)
    canvas_h = int(height * 1.7)
    base = int(height * 0.3)
    width = sum(d.shape[1] for d in digits) + height * (len(digits) + 2)
    canvas = np.zeros((canvas_h, width), np.float32)
    x = int(rng.integers(2, height // 2 + 3))
    for k, d in enumerate(digits):
        y = base + int(rng.integers(-height // 10, height // 10 + 1)) + (height - d.shape[0]) // 2
        y = int(np.clip(y, 0, canvas_h - d.shape[0]))
        canvas[y : y + d.shape[0], x : x + d.shape[1]] = np.maximum(
            canvas[y : y + d.shape[0], x : x + d.shape[1]], d)
        x += d.shape[1]
        gap = rng.normal(0.12, 0.15) * height
        if k in marks:
            x += max(int(gap), 2)
            x += _mark(rng, canvas, marks[k], x, base, height)
            gap = rng.uniform(0.05, 0.3) * height
        x += int(np.clip(gap, -0.25 * height, 0.9 * height))
        x = max(x, 1)
    x += int(rng.integers(2, height // 2 + 3))
    return canvas[:, : min(x, width)]


def _separators(rng: np.random.Generator, n: int, context: bool) -> dict[int, str]:
    """After which digit a separator stands: thousands points, a decimal comma, a closing dash."""
    marks: dict[int, str] = {}
    roll = rng.random()
    if roll < 0.35 and n >= 4:
        point = "." if rng.random() < 0.7 else ","
        for k in range(n - 4, -1, -3):
            marks[k] = point
    elif roll < 0.5 and n >= 3:
        marks[n - 3] = "," if rng.random() < 0.6 else "."
    if rng.random() < 0.08:
        marks[n - 1] = "-"
    # After one or two digits, at random: an operator (a sum written out) or a table cell's side.
    for kind, chance in (("op", OPERATOR_CHANCE), ("|", CELL_SIDE_CHANCE)) if context else ():
        if n >= 2 and rng.random() < chance:
            for k in rng.choice(n - 1, size=min(n - 1, int(rng.integers(1, 3))), replace=False):
                marks.setdefault(int(k), kind)
    return marks


def _labelled(rng: np.random.Generator, ink: np.ndarray, height: int) -> np.ndarray:
    """Perhaps a printed label before (or after) the number, in letters ``LABEL_SIZE`` of its
    height, sitting on the same base line, and perhaps a dotted leader under the number."""
    canvas_h, base = ink.shape[0], int(height * 0.3)
    if rng.random() < LEADER_CHANCE:
        y = min(canvas_h - 3, base + height + int(rng.integers(0, max(2, height // 8))))
        step, dot = int(rng.integers(4, 10)), int(rng.integers(1, 3))
        for x in range(int(rng.integers(0, step)), ink.shape[1], step):
            cv2.circle(ink, (x, y), dot, 1.0, -1)
    if rng.random() >= LABEL_CHANCE:
        return ink
    label = printed_label(rng)
    h = max(6, min(canvas_h - base, round(height * rng.uniform(*LABEL_SIZE))))
    w = max(4, round(label.shape[1] * h / label.shape[0]))
    label = cv2.resize(label, (w, h), interpolation=cv2.INTER_AREA)
    side = np.zeros((canvas_h, w + int(height * rng.uniform(0.3, 1.0))), np.float32)
    top = min(canvas_h - h, base + height - h)
    at = 0 if rng.random() < 0.85 else side.shape[1] - w
    side[top : top + h, at : at + w] = label
    return np.hstack([side, ink] if at == 0 else [ink, side])


def _mark(rng: np.random.Generator, canvas: np.ndarray, char: str, x: int, base: int, height: int) -> int:
    """Draw a separator, operator or cell side at ``x``; its width."""
    thick = max(1, round(height * rng.uniform(0.05, 0.1)))
    bottom = base + height
    if char == "op":
        size = max(6, round(height * rng.uniform(0.45, 0.8)))
        sign = cv2.resize(operator(rng), (size, size), interpolation=cv2.INTER_AREA)
        y = base + (height - size) // 2 + int(rng.integers(-height // 10, height // 10 + 1))
        y = int(np.clip(y, 0, canvas.shape[0] - size))
        area = canvas[y : y + size, x : x + size]
        area[:] = np.maximum(area, sign[:, : area.shape[1]])
        return size + int(height * rng.uniform(0.1, 0.4))
    if char == "|":
        gap = int(height * rng.uniform(0.25, 0.5))  # thin, upright, the crop's full height: not a 1
        cv2.line(canvas, (x + gap, 0), (x + gap + int(rng.integers(-1, 2)), canvas.shape[0] - 1), 1.0, 1)
        return 2 * gap
    if char == "-":
        w = int(height * rng.uniform(0.25, 0.5))
        y = base + int(height * rng.uniform(0.4, 0.6))
        cv2.line(canvas, (x, y), (x + w, y + int(rng.integers(-2, 3))), 1.0, thick)
        return w
    cv2.circle(canvas, (x + thick, bottom - thick), thick, 1.0, -1)
    if char == ",":
        tail = (x, bottom + 2 * thick + 2)
        cv2.line(canvas, (x + thick, bottom - thick), tail, 1.0, max(1, thick // 2 + 1))
    return 2 * thick + 1


def _slant(rng: np.random.Generator, ink: np.ndarray) -> np.ndarray:
    """Shear the line (handwriting leans) and rotate it a little (a line written askew)."""
    h, w = ink.shape
    shear = rng.uniform(-0.25, 0.25)
    angle = rng.normal(0, 2.0)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[0, 1] += shear
    m[0, 2] -= shear * h / 2
    return cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)


def _render(rng: np.random.Generator, ink: np.ndarray, height: int) -> np.ndarray:
    """Ink on a ground: paper level, a security pattern or a ruled line, light, noise, scan size, JPEG."""
    h, w = ink.shape
    paper = rng.uniform(150, 245)
    ground = np.full((h, w), paper, np.float32)
    if rng.random() < 0.5:
        ground -= _guilloche(rng, h, w) * rng.uniform(15, 70)
    if rng.random() < 0.25:
        y = int(h * rng.uniform(0.7, 0.95))
        cv2.line(ground, (0, y), (w, y + int(rng.integers(-3, 4))), float(paper - rng.uniform(30, 90)), 1)
    ground *= 1 + np.linspace(-1, 1, w)[None, :] * rng.uniform(-0.12, 0.12)
    strength = rng.uniform(0.45, 0.95) * paper
    image = ground * (1 - ink) + (paper - strength) * ink
    image += rng.normal(0, rng.uniform(1, 8), image.shape)
    target = int(rng.integers(max(16, height // 2 + 4), 2 * height + 8))
    scale = target / h
    image = cv2.resize(image, (max(8, round(w * scale)), target), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (3, 3), rng.uniform(0.3, 1.0))
    out = np.clip(image, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
        out = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return out


def _guilloche(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Families of fine wavy lines, as printed behind a cheque's amount: a (h, w) mask in [0, 1]."""
    mask = np.zeros((h, w), np.float32)
    xs = np.arange(w, dtype=np.float32)
    for _ in range(int(rng.integers(1, 3))):
        spacing = rng.uniform(3, 9)
        slope = rng.uniform(-0.4, 0.4)
        amp, period, phase = rng.uniform(0, 6), rng.uniform(30, 200), rng.uniform(0, 6.3)
        for offset in np.arange(-abs(slope) * w - 10, h + abs(slope) * w + 10, spacing):
            ys = offset + slope * xs + amp * np.sin(xs / period * 6.283 + phase)
            pts = np.stack([xs, ys], 1).astype(np.int32)
            cv2.polylines(mask, [pts], False, 1.0, 1)
    return cv2.GaussianBlur(mask, (3, 3), 0.6)


def string_set(images: np.ndarray, labels: np.ndarray, n: int, *,
               seed: int = 0, context: bool = False) -> list[tuple[np.ndarray, str]]:
    """``n`` synthetic strings (crop, digits) from the digits given, reproducibly from ``seed``
    (``context``: as :func:`digit_string`).

    >>> digits = np.zeros((10, 28, 28), np.uint8); digits[:, 6:22, 12:16] = 255
    >>> [text for _, text in string_set(digits, np.arange(10), 3, seed=1)] == \\
    ...     [text for _, text in string_set(digits, np.arange(10), 3, seed=1)]
    True
    """
    rng = np.random.default_rng(seed)
    return [digit_string(rng, images, labels, context=context) for _ in range(n)]
