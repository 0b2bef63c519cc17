"""Things that are not one digit, as the reader would crop them: the training data of class 10.

A reader that only knows ten classes calls everything a digit: two touching digits come out as one
confident 8, half of a wide 0 as a 1, the detached bar of a 5 as a 7, a blot as a 0. A classifier with
an eleventh class, "not a single digit", lets the reader (``ml.reading.split``) ask of every candidate
box whether it is one digit at all, which is what deciding between splitting, merging and dropping
needs.

The samples are built from MNIST **training** digits (the test digits stay unseen) and pushed through
the same :func:`ml.models.preprocess.to_mnist` as a crop of a photo, so they look exactly like what the
model will be shown:

- ``pair`` / ``triple``: neighbouring digits, touching, overlapping or a little apart;
- ``fragment``: part of a wide digit cut off vertically, or the top of a digit cut horizontally
  (what a wrong split or a broken stroke leaves);
- ``mark``: blots, scribbles, dashes, dots, crosses and hatching;
- ``printed``, ``operator``, ``grid``: a form's printed letters, the arithmetic between drawn digits,
  a table's empty cells and line crossings (:mod:`ml.synth.symbols`), seen read as digits on real
  photos and scans.
"""

from __future__ import annotations

import cv2
import numpy as np

from ml.models.preprocess import batch_to_mnist, to_mnist
from ml.reading.boxes import stretch
from ml.reading.params import SEGMENT

from .symbols import grid_piece, operator, printed_text

KINDS = {"pair": 0.5, "triple": 0.1, "fragment": 0.2, "mark": 0.2, "printed": 0.15, "operator": 0.08,
         "grid": 0.07}
SYMBOLS = {"printed": printed_text, "operator": operator, "grid": grid_piece}


def _ink(image: np.ndarray) -> np.ndarray:
    """A digit cropped to its ink, float in [0, 1]."""
    img = image.astype(np.float32) / 255 if image.dtype == np.uint8 else image.astype(np.float32)
    rows, cols = np.nonzero(img.max(axis=1) > 0.1)[0], np.nonzero(img.max(axis=0) > 0.1)[0]
    if len(rows) == 0:
        return img
    return img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _row(inks: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Digits side by side at similar heights, each gap between touching-overlapped and a bit apart."""
    height = 40
    scaled = []
    for ink in inks:
        h = int(height * rng.uniform(0.85, 1.1))
        w = max(1, round(ink.shape[1] * h / ink.shape[0]))
        scaled.append(cv2.resize(ink, (w, h), interpolation=cv2.INTER_LINEAR))
    width = sum(s.shape[1] for s in scaled) + height * len(scaled)
    canvas = np.zeros((height * 2, width), np.float32)
    x = 0
    for s in scaled:
        y = int(height * 0.3 + rng.uniform(-0.12, 0.12) * height)
        region = canvas[y : y + s.shape[0], x : x + s.shape[1]]
        np.maximum(region, s[: region.shape[0]], out=region)
        # Mostly touching (overlapping by up to 15% of a digit's width): the pairs a reader must
        # take apart; now and then up to 30% of the height apart. Never more overlap: a 1 pushed
        # inside a 7 is a 7 with a stroke, not a pair.
        apart = rng.random() < 0.3
        gap = rng.uniform(0, 0.3 * height) if apart else rng.uniform(-0.15, 0.03) * s.shape[1]
        x += s.shape[1] + int(gap)
    return canvas


def _fragment(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A piece of a digit: a vertical slice of a wide one, or the top of any (a 5's detached bar)."""
    h, w = ink.shape
    if rng.random() < 0.6:
        # Less than half of a wide digit: what a wrong cut leaves. Narrow digits are not cut (their
        # slices are strokes, which is what a 1 looks like), and neither is more than half of any
        # digit (the right 60% of a 7 is still a 7).
        if w < 0.7 * h:
            return None
        cut = int(w * rng.uniform(0.2, 0.45))
        piece = ink[:, :cut] if rng.random() < 0.5 else ink[:, w - cut :]
        if piece.shape[1] < 0.3 * h:
            return None
    else:  # the top of a digit: a detached bar or hook
        piece = ink[: max(1, int(h * rng.uniform(0.12, 0.3))), :]
    return piece if piece.max() > 0.3 else None


def _mark(rng: np.random.Generator) -> np.ndarray:
    """A blot, scribble, dash, dot, cross or hatch: ink that is not a digit."""
    canvas = np.zeros((60, 60), np.float32)
    kind = rng.integers(0, 6)
    t = int(rng.integers(3, 8))
    if kind == 0:  # filled blot
        axes = (int(rng.integers(8, 25)), int(rng.integers(8, 25)))
        cv2.ellipse(canvas, (30, 30), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    elif kind == 1:  # scribble: a zig-zag of several strokes
        pts = rng.integers(5, 55, (int(rng.integers(5, 9)), 2)).astype(np.int32)
        cv2.polylines(canvas, [pts], False, 1.0, t)
    elif kind == 2:  # dash, underline or ruled-line piece
        y = int(rng.integers(20, 40))
        cv2.line(canvas, (5, y), (55, y + int(rng.integers(-6, 7))), 1.0, t)
    elif kind == 3:  # dot or comma
        cv2.circle(canvas, (30, 30), int(rng.integers(3, 7)), 1.0, -1)
    elif kind == 4:  # cross or plus
        cv2.line(canvas, (10, 30), (50, 30), 1.0, t)
        upright = rng.random() < 0.5
        cv2.line(canvas, (30, 10) if upright else (15, 45), (30, 50) if upright else (45, 15), 1.0, t)
    else:  # hatching, as on a cheque's security background
        step = int(rng.integers(6, 12))
        for k in range(-60, 60, step):
            cv2.line(canvas, (k, 60), (k + 60, 0), 1.0, max(1, t // 2))
    return cv2.GaussianBlur(canvas, (3, 3), 0)


def make_negatives(images: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` not-a-digit samples (N, 28, 28) float32 in [0, 1] made from ``images`` (N, 28, 28).

    >>> import numpy as np
    >>> digits = np.zeros((20, 28, 28), np.uint8); digits[:, 4:24, 10:18] = 255
    >>> x = make_negatives(digits, 12, seed=0)
    >>> x.shape, x.dtype, float(x.max()) <= 1.0
    ((12, 28, 28), dtype('float32'), True)
    """
    rng = np.random.default_rng(seed)
    kinds, weights = list(KINDS), np.array(list(KINDS.values()))
    crops: list[np.ndarray] = []
    while len(crops) < n:
        kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
        if kind in ("pair", "triple"):
            picks = rng.integers(0, len(images), 2 if kind == "pair" else 3)
            crops.append(_row([_ink(images[i]) for i in picks], rng))
        elif kind == "fragment":
            piece = _fragment(_ink(images[rng.integers(0, len(images))]), rng)
            if piece is not None:
                crops.append(piece)
        elif kind in SYMBOLS:
            crops.append(SYMBOLS[kind](rng))
        else:
            crops.append(_mark(rng))
    return batch_to_mnist([_as_read(c, rng) for c in crops])


def _as_read(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cut out and stretch ink the way the reader does (binarised strokes grown by a pixel)."""
    ink = np.clip(ink, 0.0, 1.0)
    if not (ink > SEGMENT.min_contrast).any():
        return ink
    mask = cv2.dilate((ink > rng.uniform(0.2, 0.4)).astype(np.uint8), np.ones((3, 3), np.uint8))
    return stretch(ink * mask)


def render_like_reading(images: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Each digit as ``ml.read`` would see it on a page: (N, 28, 28) float32 in [0, 1].

    MNIST digits are one resampling away from their scans; a digit cropped from a photo is three
    (written large, photographed, shrunk back to 20 px), which leaves it softer. A model trained on
    sharp digits and soft non-digits learns that "soft" means "not a digit". So a share of the
    training digits is drawn at a random height (24–120 px), sometimes with a thicker or thinner pen
    or out of focus, then cut out and normalised exactly as :meth:`ml.reading.boxes.Segmentation.crop`
    and :func:`ml.models.preprocess.to_mnist` do.

    >>> digits = np.zeros((3, 28, 28), np.uint8); digits[:, 4:24, 12:16] = 255
    >>> out = render_like_reading(digits, seed=1)
    >>> out.shape, out.dtype, 0.9 < float(out.max()) <= 1.0
    ((3, 28, 28), dtype('float32'), True)
    """
    rng = np.random.default_rng(seed)
    out = np.empty((len(images), 28, 28), np.float32)
    for k, image in enumerate(images):
        ink = _ink(image)
        height = int(rng.integers(24, 121))
        ink = cv2.resize(ink, (max(1, round(ink.shape[1] * height / ink.shape[0])), height),
                         interpolation=cv2.INTER_CUBIC)
        r = rng.random()
        if r < 0.35:
            # A felt-tip or marker: strokes up to a sixth of the digit's height thicker, loops filling.
            grow = int(rng.integers(1, max(2, height // 25) + 1))
            ink = cv2.dilate(ink, np.ones((2 * grow + 1,) * 2, np.uint8))
        elif r < 0.5 and height > 40:  # a fine pen
            ink = cv2.erode(ink, np.ones((3, 3), np.uint8))
        if rng.random() < 0.4:
            ink = cv2.GaussianBlur(ink, (0, 0), rng.uniform(0.5, 1.5) * height / 40)
        ink = np.clip(ink, 0.0, 1.0)
        out[k] = to_mnist(_as_read(ink, rng))
    return out
