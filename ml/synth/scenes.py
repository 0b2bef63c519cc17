"""Real-looking scenes beyond the page generator: the cases people actually photograph.

``ml.synth.photo`` varies one kind of page widely; these are seven specific situations, each with its own
trap, built from MNIST **test** digits so the truth is known:

- ``cheque``: an amount with separators (``1,250.00``) and a date in a printed box, on a
  guilloche security pattern in a light colour;
- ``sheet``: an A4 page of phone numbers and dates on ruled notebook lines, small digits;
- ``closeup``: one large digit photographed close, soft focus and vignetting;
- ``marker``: fat felt-tip strokes, digits nearly touching;
- ``webcam``: 640×480, low contrast, strong noise and a colour cast, heavy JPEG;
- ``shadow``: a hand's hard shadow across the numbers;
- ``form``: digits written one to a cell in a form's printed boxes (a student number, a date, a
  postcode, a score card): ladders of cells sharing their sides, grids of two or three such rows, combs
  of ticks on a base line, or a row of cells cropped inside its top and bottom lines; digits often
  touch a side.

Separators (``.`` ``,`` ``-`` and spaces) are drawn but are not digits: the truth lines hold digits
only, so a reader that reports a dot as a 1 loses accuracy.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from .ink import digit_ink, light_ramp

KINDS = ("cheque", "sheet", "closeup", "marker", "webcam", "shadow", "form")


def _write(canvas: np.ndarray, text: str, x: int, y: int, height: int, images: np.ndarray,
           labels: np.ndarray, rng: np.random.Generator, *, line: int, stroke: int = 0,
           gap: tuple[float, float] = (0.15, 0.4)) -> tuple[list[dict], int]:
    """Write ``text`` (digits, ``.`` ``,`` ``-`` and spaces) on the ink canvas from (x, y = top);
    returns the digits' truth and the x where the text ends."""
    digits = []
    pen = max(2, height // 14 + max(stroke, 0))
    for ch in text:
        if ch.isdigit():
            sample = images[rng.choice(np.flatnonzero(labels == int(ch)))]
            ink = digit_ink(sample, int(height * rng.uniform(0.92, 1.05)), stroke=stroke)
            top = y + int(rng.integers(-height // 12, height // 12 + 1))
            region = canvas[top : top + ink.shape[0], x : x + ink.shape[1]]
            np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
            r, c = np.nonzero(ink > 0.2)
            box = [int(x + c.min()), int(top + r.min()), int(np.ptp(c) + 1), int(np.ptp(r) + 1)]
            digits.append({"digit": int(ch), "line": line, "box": box})
            x += ink.shape[1] + int(rng.uniform(*gap) * height)
        elif ch == ".":
            cv2.circle(canvas, (x + pen, y + height - pen), pen, 1.0, -1)
            x += int(0.3 * height)
        elif ch == ",":
            cv2.line(canvas, (x + 2 * pen, y + height - 2 * pen), (x, y + height + pen), 1.0, pen)
            x += int(0.3 * height)
        elif ch == "-":
            cv2.line(canvas, (x, y + height // 2), (x + int(0.3 * height), y + height // 2 + 2), 1.0, pen)
            x += int(0.45 * height)
        else:
            x += int(0.5 * height)
    return digits, x


def _light(h: int, w: int, rng: np.random.Generator, *, spread: float = 0.25) -> np.ndarray:
    return 1 - spread * light_ramp(h, w, rng.uniform(0, 2 * np.pi))


def _render(ink: np.ndarray, paper: np.ndarray, pen: tuple[int, int, int], *, strength: float = 1.0
            ) -> np.ndarray:
    """Ink (H, W) in [0, 1] onto a paper image (H, W, 3) float."""
    a = (ink * strength)[..., None]
    return paper * (1 - a) + np.array(pen, np.float32) * a


def _finish(img: np.ndarray, rng: np.random.Generator, *, noise: float, blur: int) -> np.ndarray:
    img = img + rng.normal(0, noise, img.shape)
    if blur:
        img = cv2.GaussianBlur(img, (blur, blur), 0)
    return np.clip(img, 0, 255).astype(np.uint8)


def _amount(rng: np.random.Generator) -> str:
    units = str(int(rng.integers(1, 100_000)))
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return ",".join(groups) + "." + f"{int(rng.integers(0, 100)):02d}"


def _cheque(images, labels, rng):
    h, w, height = 450, 1500, int(rng.integers(45, 70))
    ink = np.zeros((h, w), np.float32)
    amount = _amount(rng)
    date = f"{int(rng.integers(1, 29)):02d}.{int(rng.integers(1, 13)):02d}.{int(rng.integers(2020, 2031))}"
    box_x, box_y = 560, 250
    d1, _ = _write(ink, date, 900, 60, int(height * 0.8), images, labels, rng, line=0)
    d2, end = _write(ink, amount, box_x + 30, box_y + 25, height, images, labels, rng, line=1)
    # Guilloche: interleaved sine waves in a light colour over the whole cheque.
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = (rng.uniform(225, 245), rng.uniform(235, 250), rng.uniform(225, 250))
    pattern = np.zeros((h, w), np.float32)
    xs = np.arange(w)
    period, amp = rng.uniform(40, 90), rng.uniform(6, 14)
    for k in range(0, h, int(rng.integers(6, 11))):
        ys = (k + amp * np.sin(xs / period * 2 * np.pi + k * 0.3)).astype(np.int32)
        pts = np.stack([xs, ys], 1).reshape(-1, 1, 2)
        cv2.polylines(pattern, [pts], False, 1.0, 1, cv2.LINE_AA)
    tint = np.array([rng.uniform(170, 215), rng.uniform(190, 230), rng.uniform(150, 210)], np.float32)
    paper = _render(pattern, paper, tuple(tint), strength=rng.uniform(0.5, 0.9))
    # The printed amount box and the signature line, in dark print.
    printed = np.zeros((h, w), np.float32)
    cv2.rectangle(printed, (box_x, box_y), (max(end + 30, box_x + 380), box_y + height + 60), 1.0, 2)
    cv2.line(printed, (60, 400), (480, 400), 1.0, 2)
    img = _render(printed, paper, (60, 60, 60))
    img = _render(ink, img, (140, 50, 20) if rng.random() < 0.5 else (30, 30, 30))
    img *= _light(h, w, rng, spread=0.2)[..., None]
    return _finish(img, rng, noise=3, blur=3), [date, amount], d1 + d2, int(rng.integers(70, 95))


def _sheet(images, labels, rng):
    h, w = 1754, 1240
    height = int(rng.integers(28, 46))
    spacing = int(height * 2.2)
    ink = np.zeros((h, w), np.float32)
    texts, digits = [], []
    for line in range(int(rng.integers(6, 12))):
        if rng.random() < 0.5:
            text = "0" + "".join(str(d) for d in rng.integers(0, 10, 1)) + " " + " ".join(
                "".join(str(d) for d in rng.integers(0, 10, 2)) for _ in range(4))
        else:
            sep = "." if rng.random() < 0.5 else "-"
            text = sep.join([f"{int(rng.integers(1, 29)):02d}", f"{int(rng.integers(1, 13)):02d}",
                             str(int(rng.integers(1990, 2031)))])
        top = 160 + line * spacing
        d, _ = _write(ink, text, int(rng.integers(120, 260)), top, height, images, labels, rng, line=line,
                      stroke=-1 if rng.random() < 0.3 else 0)
        texts.append(text)
        digits += d
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = (rng.uniform(235, 252),) * 3
    rules = np.zeros((h, w), np.float32)
    for line in range(len(texts) + 3):
        y = 160 + line * spacing + height + int(height * 0.15)
        cv2.line(rules, (0, y), (w, y), 1.0, 2)
    cv2.line(rules, (90, 0), (90, h), 1.0, 2)  # the margin rule
    paper = _render(rules, paper, (220, 170, 150), strength=0.7)
    img = _render(ink, paper, (30, 30, 35) if rng.random() < 0.5 else (150, 60, 25))
    img *= _light(h, w, rng)[..., None]
    return _finish(img, rng, noise=4, blur=3), texts, digits, int(rng.integers(70, 92))


def _closeup(images, labels, rng):
    h, w = 1200, 900
    ink = np.zeros((h, w), np.float32)
    height = int(rng.integers(450, 800))
    text = str(int(rng.integers(0, 10)))
    d, _ = _write(ink, text, int(rng.integers(150, 350)), (h - height) // 2, height, images, labels, rng,
                  line=0, stroke=int(rng.integers(2, 10)))
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = (rng.uniform(200, 240), rng.uniform(205, 240), rng.uniform(210, 245))
    img = _render(ink, paper, (35, 35, 40))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vignette = 1 - 0.45 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 2
    img *= vignette[..., None]
    return _finish(img, rng, noise=4, blur=int(rng.choice([9, 15, 21]))), [text], d, int(rng.integers(60, 90))


def _marker(images, labels, rng):
    h, w, height = 500, 1200, int(rng.integers(90, 150))
    ink = np.zeros((h, w), np.float32)
    text = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(3, 7))))
    d, _ = _write(ink, text, 60, 120, height, images, labels, rng, line=0,
                  stroke=int(rng.integers(3, 6)), gap=(0.05, 0.2))
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = (rng.uniform(225, 250),) * 3
    img = _render(ink, paper, (25, 25, 25) if rng.random() < 0.6 else (120, 40, 160))
    img *= _light(h, w, rng)[..., None]
    return _finish(img, rng, noise=3, blur=3), [text], d, int(rng.integers(70, 95))


def _webcam(images, labels, rng):
    h, w = 480, 640
    ink = np.zeros((h, w), np.float32)
    texts, digits = [], []
    height = int(rng.integers(40, 80))
    for line in range(int(rng.integers(1, 3))):
        text = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(3, 6))))
        d, _ = _write(ink, text, 60, 80 + line * int(height * 1.9), height, images, labels, rng, line=line)
        texts.append(text)
        digits += d
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = (rng.uniform(120, 170), rng.uniform(130, 175), rng.uniform(140, 190))  # dim, colour cast
    img = _render(ink, paper, (50, 45, 40), strength=rng.uniform(0.55, 0.8))
    img *= _light(h, w, rng, spread=0.35)[..., None]
    return _finish(img, rng, noise=rng.uniform(8, 14), blur=5), texts, digits, int(rng.integers(35, 60))


def _shadow(images, labels, rng):
    h, w = 700, 1100
    ink = np.zeros((h, w), np.float32)
    texts, digits = [], []
    height = int(rng.integers(60, 110))
    for line in range(2):
        text = "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(4, 8))))
        d, _ = _write(ink, text, 70, 120 + line * int(height * 2), height, images, labels, rng, line=line)
        texts.append(text)
        digits += d
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = (rng.uniform(215, 245),) * 3
    img = _render(ink, paper, (30, 30, 35))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    edge = rng.uniform(0.3, 0.7) * w + np.tan(rng.uniform(-0.7, 0.7)) * (yy - h / 2)
    dark = rng.uniform(0.45, 0.65)
    img *= (1 - dark / (1 + np.exp((xx - edge) / rng.uniform(4, 15))))[..., None]
    return _finish(img, rng, noise=4, blur=3), texts, digits, int(rng.integers(60, 92))


def _cells(printed: np.ndarray, x0: int, top: int, cell: int, cell_h: int, n: int, style: str,
           thick: int) -> None:
    """A row of ``n`` cells ``cell`` px wide drawn on ``printed``: a ``ladder`` (top and bottom lines,
    shared sides), a ``comb`` (a base line, ticks a third of the cell high) or ``open`` (the sides only,
    as a row cut out between its lines)."""
    x1, bottom = x0 + n * cell, top + cell_h
    if style != "open":
        cv2.line(printed, (x0, bottom), (x1, bottom), 1.0, thick)
    if style == "ladder":
        cv2.line(printed, (x0, top), (x1, top), 1.0, thick)
    tick_top = bottom - cell_h // 3 if style == "comb" else top
    for i in range(n + 1):
        cv2.line(printed, (x0 + i * cell, tick_top), (x0 + i * cell, bottom), 1.0, thick)


def _form(images, labels, rng):
    h, w = 800, 1200
    ink, printed = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
    height = int(rng.integers(36, 64))
    texts, digits, top = [], [], int(rng.integers(60, 120))
    for _ in range(int(rng.integers(2, 5))):
        cell, cell_h = int(height * rng.uniform(0.95, 1.5)), int(height * rng.uniform(1.15, 1.5))
        n = int(rng.integers(4, min(11, (w - 120) // cell)))
        x0 = int(rng.integers(60, w - 60 - n * cell))
        style = str(rng.choice(["ladder", "comb", "open", "grid"]))
        stack = int(rng.integers(2, 4)) if style == "grid" else 1  # a score card's rows of cells
        if top + stack * cell_h + height > h:
            break
        thick = int(rng.integers(1, 4))
        for _ in range(stack):
            _cells(printed, x0, top, cell, cell_h, n, "ladder" if style == "grid" else style, thick)
            text = "".join(str(d) for d in rng.integers(0, 10, n))
            for i, ch in enumerate(text):
                # Most digits sit inside their cell; some touch its left side.
                x = x0 + i * cell + (1 if rng.random() < 0.15 else int(cell * rng.uniform(0.12, 0.3)))
                y = top + max(2, int((cell_h - height) * rng.uniform(0.2, 0.8)))
                d, _ = _write(ink, ch, x, y, int(height * rng.uniform(0.8, 0.95)), images, labels, rng,
                              line=len(texts))
                digits += d
            texts.append(text)
            top += cell_h
        top += int(height * rng.uniform(0.8, 2.0))
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = (rng.uniform(220, 250), rng.uniform(225, 250), rng.uniform(215, 250))
    colours = [(60, 60, 60), (150, 110, 40), (70, 130, 70), (80, 80, 200)]  # BGR: grey, blue, green, red
    print_ink = tuple(float(c) for c in colours[int(rng.integers(len(colours)))])
    img = _render(printed, paper, print_ink, strength=rng.uniform(0.6, 1.0))
    img = _render(ink, img, (140, 50, 20) if rng.random() < 0.5 else (30, 30, 30))
    img *= _light(h, w, rng, spread=0.2)[..., None]
    return _finish(img, rng, noise=3, blur=3), texts, digits, int(rng.integers(70, 95))


_MAKERS = {"cheque": _cheque, "sheet": _sheet, "closeup": _closeup, "marker": _marker,
           "webcam": _webcam, "shadow": _shadow, "form": _form}


def make_scene(images: np.ndarray, labels: np.ndarray, *, seed: int, kind: str
               ) -> tuple[np.ndarray, dict[str, Any], int]:
    """One scene of ``kind`` (BGR uint8), its truth (digit lines, digits with boxes) and its JPEG quality.

    >>> import numpy as np
    >>> images = np.zeros((10, 28, 28), np.uint8); images[:, 4:24, 10:18] = 255
    >>> page, truth, quality = make_scene(images, np.arange(10), seed=0, kind="cheque")
    >>> page.ndim, truth["kind"], all(ch.isdigit() for ch in "".join(truth["lines"]))
    (3, 'cheque', True)
    """
    assert kind in _MAKERS, f"kind must be one of {KINDS}, got {kind!r}"
    rng = np.random.default_rng(seed)
    page, lines, digits, quality = _MAKERS[kind](images, labels, rng)
    lines = ["".join(c for c in line if c.isdigit()) for line in lines]  # separators are not digits
    return page, {"kind": kind, "lines": lines, "digits": digits}, quality
