"""Photo-like pages built from MNIST digits, with ground truth: the ``photo`` and ``clean`` tiers of the
evaluation sets, and the phone photo of the reading speed benchmark.

The photo tier varies what phones vary: paper colour and illumination gradients, a hand's shadow,
sensor noise, blur, JPEG quality 55–95, black, blue or pencil ink, a few degrees of rotation, thicker
and thinner strokes, neighbouring pairs that touch. The clean tier is a flat scan: white paper, black
ink, no rotation, PNG.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from .ink import INKS, digit_ink, light_ramp

TIERS = ("photo", "clean", "scenes")  # scenes: ml.synth.scenes, six real-world situations in turn


def _layout(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, tier: str, *,
            height: int | None = None, n_lines: int | None = None, per_line: int | None = None):
    """Place 1–3 lines of 1–8 digits on an ink canvas; returns canvas (float, ink high) and truth."""
    height = height or int(rng.integers(40, 141))
    n_lines = n_lines or int(rng.integers(1, 4))
    margin = int(height * rng.uniform(0.5, 1.2))
    placed, truth_lines, y = [], [], margin
    for line_no in range(n_lines):
        digits = rng.integers(0, 10, per_line or int(rng.integers(1, 9)))
        truth_lines.append("".join(str(d) for d in digits))
        x = margin
        for d in digits:
            index = int(rng.choice(np.flatnonzero(labels == d)))
            sample = images[index]
            stroke = 0 if tier == "clean" else int(rng.choice([-1, 0, 0, 1, 2])) * max(1, height // 60)
            ink = digit_ink(sample, int(height * rng.uniform(0.9, 1.05)), stroke=stroke)
            jitter = int(rng.integers(-height // 10, height // 10 + 1))
            placed.append((ink, x, y + jitter, int(d), line_no, index))
            # Mostly a normal gap; on photos now and then a pair that touches (negative gap).
            touching = tier == "photo" and rng.random() < 0.12
            gap = -0.06 if touching else rng.uniform(0.15, 0.5)
            x += ink.shape[1] + int(gap * height)
        y += int(height * rng.uniform(1.5, 2.0))
    width = max(p[1] for p in placed) + max(p[0].shape[1] for p in placed) + margin
    canvas = np.zeros((y + margin, width), np.float32)
    digits = []
    for ink, x, y0, d, line_no, index in placed:
        region = canvas[y0 : y0 + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
        r, c = np.nonzero(ink > 0.2)
        digits.append({"digit": d, "line": line_no, "mnist_test_index": index,
                       "box": [int(x + c.min()), int(y0 + r.min()), int(np.ptp(c) + 1), int(np.ptp(r) + 1)]})
    return canvas, {"lines": truth_lines, "digits": digits}


def _rotate(canvas: np.ndarray, truth: dict, degrees: float) -> np.ndarray:
    """Rotate the page about its centre (canvas grows to fit); boxes follow as bounding boxes."""
    h, w = canvas.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    for d in truth["digits"]:
        x, y, bw, bh = d["box"]
        corners = np.array([[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], np.float64)
        pts = corners @ m.T
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        d["box"] = [int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0))]
    return cv2.warpAffine(canvas, m, (nw, nh), flags=cv2.INTER_LINEAR)


def _photograph(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render ink on paper the way a phone sees it: tint, light gradient, shadow, noise, blur."""
    h, w = ink.shape
    paper = np.array([rng.uniform(200, 250), rng.uniform(205, 250), rng.uniform(210, 252)], np.float32)
    pen = np.array(INKS[str(rng.choice(list(INKS)))], np.float32)
    strength = rng.uniform(0.55, 0.85) if pen[0] == INKS["pencil"][0] else 1.0
    a = (ink * strength)[..., None]
    img = paper * (1 - a) + pen * a
    # Illumination: a linear gradient in a random direction, and sometimes a soft shadow band.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = light_ramp(h, w, rng.uniform(0, 2 * np.pi))
    light = 1 - rng.uniform(0.05, 0.35) * ramp
    if rng.random() < 0.4:
        edge = rng.uniform(0.2, 0.8) * w + np.tan(rng.uniform(-0.5, 0.5)) * (yy - h / 2)
        softness = rng.uniform(0.02, 0.1) * w
        light *= 1 - rng.uniform(0.2, 0.45) / (1 + np.exp((xx - edge) / softness))
    img *= light[..., None]
    img += rng.normal(0, rng.uniform(2, 8), img.shape)
    k = int(rng.choice([0, 0, 3, 5]))
    if k:
        img = cv2.GaussianBlur(img, (k, k), 0)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_page(images: np.ndarray, labels: np.ndarray, *, seed: int, tier: str = "photo"
              ) -> tuple[np.ndarray, dict[str, Any], int]:
    """One page (BGR uint8), its truth and its JPEG quality (0 for PNG).

    >>> import numpy as np
    >>> images = np.zeros((10, 28, 28), np.uint8); images[:, 4:24, 10:18] = 255
    >>> page, truth, quality = make_page(images, np.arange(10), seed=0, tier="clean")
    >>> page.ndim, quality, len(truth["digits"]) == sum(map(len, truth["lines"]))
    (3, 0, True)
    """
    assert tier in TIERS, f"tier must be one of {TIERS}, got {tier!r}"
    rng = np.random.default_rng(seed)
    canvas, truth = _layout(images, labels, rng, tier)
    if tier == "clean":
        page = (255 - canvas[..., None] * 235).clip(0, 255).astype(np.uint8).repeat(3, axis=2)
        return page, truth, 0
    canvas = _rotate(canvas, truth, rng.uniform(-4, 4))
    return _photograph(canvas, rng), truth, int(rng.integers(55, 96))


def phone_photo(images: np.ndarray, labels: np.ndarray, *, seed: int = 0,
                size: tuple[int, int] = (1600, 1200), digits: int = 10) -> tuple[np.ndarray, dict[str, Any]]:
    """A ``size`` (width, height) photo-tier page holding ``digits`` digits in two lines, as a phone
    would take it: the workload of the reading speed benchmark.

    >>> images = np.zeros((10, 28, 28), np.uint8); images[:, 4:24, 10:18] = 255
    >>> page, truth = phone_photo(images, np.arange(10), size=(800, 600), digits=4)
    >>> page.shape, [len(line) for line in truth["lines"]]
    ((600, 800, 3), [2, 2])
    """
    rng = np.random.default_rng(seed)
    canvas, truth = _layout(images, labels, rng, "photo", height=size[1] // 10, n_lines=2,
                            per_line=(digits + 1) // 2)
    w, h = size
    assert canvas.shape[0] <= h and canvas.shape[1] <= w, f"{digits} digits do not fit in {size}"
    top, left = (h - canvas.shape[0]) // 2, (w - canvas.shape[1]) // 2
    page = np.zeros((h, w), np.float32)
    page[top : top + canvas.shape[0], left : left + canvas.shape[1]] = canvas
    for d in truth["digits"]:
        d["box"][0] += left
        d["box"][1] += top
    return _photograph(page, rng), truth
