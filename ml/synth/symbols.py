"""Ink on real pages that is not a digit but looks like one to a digit reader: more class-10 samples.

Read on real photos and scans (``../shared/datasets/real-photos-dev``), the reader took a form's printed
labels ("Student ID number:", "Marks awarded") for strings of 1s, 0s and 6s, the arithmetic between
drawn digits (``+ × = ÷`` and brackets) for 4s and 1s, and the cells and check boxes of a form for 0s
and 1s. None of these were among the not-a-digit samples of :mod:`ml.synth.negatives`. Each function
here draws one such thing as float ink in [0, 1] (ink 1), before the reader's cut and normalisation:

- :func:`printed_text`: letters in a printed face (DejaVu's TrueType faces where installed, OpenCV's
  Hershey faces always): one letter, two or three touching ones, or a short word run together;
- :func:`operator`: a hand-drawn ``+``, ``×``, ``=``, ``÷``, bracket or colon, strokes wobbling;
- :func:`grid_piece`: what is left of a table or form grid: an empty cell or check box, a corner,
  a T, a crossing.

A single printed letter that a handwritten digit can look like (O, l, I, S, Z, B, b, g, q, G) is never
drawn alone: those stay the classifier's digits.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

# Letters a writer's digit can be mistaken for are drawn only inside words (see the module's text).
LONE_LETTERS = "acdefhkmnprtuvwxyACDEFHKLMNPRTUVWXY"
WORD_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
           cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL, cv2.FONT_HERSHEY_PLAIN)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


@lru_cache(maxsize=1)
def _font_files() -> tuple[str, ...]:
    """The TrueType faces on this machine that hold Latin letters (DejaVu on Debian), sorted."""
    found = []
    for folder in FONT_DIRS:
        if Path(folder).is_dir():
            found += [str(p) for p in Path(folder).rglob("*.ttf") if "Math" not in p.name]
    return tuple(sorted(found))


def _text_ink(text: str, rng: np.random.Generator) -> np.ndarray:
    """``text`` drawn in a random printed face at about 48 px, ink 1 on 0."""
    faces = _font_files()
    if faces and rng.random() < 0.6:
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.truetype(faces[int(rng.integers(len(faces)))], int(rng.integers(36, 60)))
        left, top, right, bottom = font.getbbox(text)
        canvas = Image.new("L", (right - left + 8, bottom - top + 8), 0)
        ImageDraw.Draw(canvas).text((4 - left, 4 - top), text, fill=255, font=font)
        return np.asarray(canvas, np.float32) / 255
    face = HERSHEY[int(rng.integers(len(HERSHEY)))]
    scale, thick = float(rng.uniform(1.2, 2.0)), int(rng.integers(1, 4))
    (w, h), base = cv2.getTextSize(text, face, scale, thick)
    canvas = np.zeros((h + base + 8, w + 8), np.float32)
    cv2.putText(canvas, text, (4, h + 4), face, scale, 1.0, thick, cv2.LINE_AA)
    return canvas


def printed_text(rng: np.random.Generator) -> np.ndarray:
    """A printed letter, a few touching letters or a short word, as float ink in [0, 1].

    >>> ink = printed_text(np.random.default_rng(0))
    >>> ink.ndim, ink.dtype, float(ink.max()) > 0.5
    (2, dtype('float32'), True)
    """
    r = rng.random()
    if r < 0.55:
        text = LONE_LETTERS[int(rng.integers(len(LONE_LETTERS)))]
    else:
        n = int(rng.integers(2, 4)) if r < 0.85 else int(rng.integers(4, 8))
        text = "".join(WORD_LETTERS[int(i)] for i in rng.integers(0, len(WORD_LETTERS), n))
    ink = _text_ink(text, rng)
    if rng.random() < 0.3:  # a low-resolution scan: letters thicken and run into each other
        ink = cv2.GaussianBlur(ink, (0, 0), float(rng.uniform(1.0, 2.5)))
        ink = np.clip(ink * 1.6, 0.0, 1.0)
    return ink


def printed_label(rng: np.random.Generator) -> np.ndarray:
    """A printed label of a form or table in a printed face: two to four words, perhaps ending in a
    colon ("Student ID number:", "Marks awarded"), as float ink in [0, 1] (the line reader's
    not-a-digit context: :mod:`ml.synth.strings`).

    >>> ink = printed_label(np.random.default_rng(3))
    >>> ink.ndim, ink.shape[1] > 2 * ink.shape[0], float(ink.max()) > 0.5
    (2, True, True)
    """
    words = []
    for _ in range(int(rng.integers(2, 5))):
        n = int(rng.integers(2, 9))
        word = "".join(WORD_LETTERS[int(i)] for i in rng.integers(0, 26, n))  # lower case
        words.append(word.capitalize() if rng.random() < 0.8 else word.upper())
    text = " ".join(words) + str(rng.choice(["", ":", ":", ".", " No."]))
    ink = _text_ink(text, rng)
    if rng.random() < 0.3:
        ink = np.clip(cv2.GaussianBlur(ink, (0, 0), float(rng.uniform(0.8, 1.8))) * 1.5, 0.0, 1.0)
    return ink


def _wobbly(canvas: np.ndarray, p: tuple[float, float], q: tuple[float, float], thick: int,
            rng: np.random.Generator) -> None:
    """A hand-drawn stroke from ``p`` to ``q``: a slight bow, drawn as a short polyline."""
    t = np.linspace(0.0, 1.0, 8)[:, None]
    pts = (1 - t) * np.array(p) + t * np.array(q)
    normal = np.array([p[1] - q[1], q[0] - p[0]], np.float64)
    normal /= max(1e-6, float(np.hypot(*normal)))
    pts += normal * (np.sin(np.pi * t) * rng.uniform(-0.08, 0.08) * np.hypot(q[0] - p[0], q[1] - p[1]))
    pts += rng.normal(0, 0.6, pts.shape)
    cv2.polylines(canvas, [np.round(pts).astype(np.int32)], False, 1.0, thick, cv2.LINE_AA)


def operator(rng: np.random.Generator) -> np.ndarray:
    """A hand-drawn ``+ × = ÷``, bracket or colon, as float ink in [0, 1].

    >>> ink = operator(np.random.default_rng(1))
    >>> ink.shape, float(ink.max()) > 0.5
    ((64, 64), True)
    """
    canvas = np.zeros((64, 64), np.float32)
    thick = int(rng.integers(2, 7))
    kind = int(rng.integers(0, 6))
    c, a, b = 32.0, float(rng.uniform(14, 26)), float(rng.uniform(14, 26))
    if kind in (0, 1):  # plus, or times (a plus turned about 45°)
        turn = np.deg2rad(rng.uniform(-15, 15) + (45 if kind == 1 else 0))
        for angle, half in ((turn, a), (turn + np.pi / 2, b)):
            dx, dy = half * np.cos(angle), half * np.sin(angle)
            _wobbly(canvas, (c - dx, c - dy), (c + dx, c + dy), thick, rng)
    elif kind == 2:  # equals: two bars a little apart
        gap = rng.uniform(5, 12)
        for y in (c - gap, c + gap):
            _wobbly(canvas, (c - a, y + rng.uniform(-2, 2)), (c + a, y + rng.uniform(-2, 2)), thick, rng)
    elif kind == 3:  # divide: a bar with a dot above and below
        _wobbly(canvas, (c - a, c), (c + a, c), thick, rng)
        for y in (c - b * 0.7, c + b * 0.7):
            cv2.circle(canvas, (int(c), int(y)), max(2, thick), 1.0, -1)
    elif kind == 4:  # a bracket: a strongly bowed arc, open to either side
        axes = (int(rng.uniform(8, 16)), int(rng.uniform(22, 30)))
        start = float(rng.uniform(110, 130))
        opening = 0.0 if rng.random() < 0.5 else 180.0
        cv2.ellipse(canvas, (int(c), int(c)), axes, opening, start, 360 - start, 1.0, thick, cv2.LINE_AA)
    else:  # a colon (or the two dots of a ratio)
        for y in (c - b * 0.6, c + b * 0.6):
            cv2.circle(canvas, (int(c + rng.uniform(-3, 3)), int(y)), max(2, thick), 1.0, -1)
    return canvas


def grid_piece(rng: np.random.Generator) -> np.ndarray:
    """An empty table cell or check box, or a corner, T or crossing of a grid's lines, as float ink.

    >>> ink = grid_piece(np.random.default_rng(2))
    >>> ink.shape, float(ink.max()) > 0.5
    ((64, 64), True)
    """
    canvas = np.zeros((64, 64), np.float32)
    thick = int(rng.integers(1, 6))
    kind = int(rng.integers(0, 3))
    if kind == 0:  # an empty cell or check box, perhaps a little rotated
        w, h = rng.uniform(14, 28), rng.uniform(14, 28)
        box = cv2.boxPoints(((32, 32), (2 * w, 2 * h), float(rng.uniform(-6, 6)))).astype(np.int32)
        cv2.polylines(canvas, [box], True, 1.0, thick, cv2.LINE_AA)
    else:  # lines of a grid meeting: L (corner), T, or + (a crossing), arms of unequal length
        x, y = int(rng.uniform(16, 48)), int(rng.uniform(16, 48))
        arms = [(0, y), (63, y), (x, 0), (x, 63)]
        keep = 2 if kind == 1 else int(rng.integers(3, 5))
        chosen = {int(k) for k in rng.permutation(4)[:keep]}
        if chosen == {0, 3}:  # a bar running left into a stem going down is a 7: never drawn
            chosen = {1, 3}
        elif chosen == {2, 3}:  # one straight upright line is a 1
            chosen = {1, 2, 3}
        for k in chosen:
            cv2.line(canvas, (x, y), arms[k], 1.0, thick)
    return canvas
