"""read(image) → Reading, and annotate(image, reading) → the image with boxes and digits drawn.

>>> import numpy as np
>>> reading = read(np.full((60, 60, 3), 255, np.uint8))
>>> reading.text, reading.to_dict()["digits"]
('', [])
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .checkpoint import DEFAULT_CHECKPOINT, LoadedModel, load_checkpoint
from .preprocess import batch_to_mnist
from .segment import segment

# Digits whose top probability is below this are marked uncertain (and drawn in orange).
UNCERTAIN_BELOW = 0.80
# How much more surely each piece of a wide box must read than the whole for the box to be split.
SPLIT_MARGIN = 0.05
# Refuse images with more pixels than this before decoding them fully (decompression bombs).
MAX_PIXELS = 40_000_000

RED, GREEN, ORANGE = (0, 0, 255), (0, 170, 0), (0, 140, 255)  # BGR, as OpenCV draws


class ImageError(ValueError):
    """The bytes are not an image we can read (the message says why, in words for a person)."""


@dataclass
class Digit:
    digit: int
    confidence: float
    box: list[int]  # x, y, w, h in the upright image's pixels
    line: int
    uncertain: bool
    alternatives: list[dict[str, float]] = field(default_factory=list)  # top 3, best first

    def to_dict(self) -> dict[str, Any]:
        return {"digit": self.digit, "confidence": round(self.confidence, 4), "box": self.box,
                "line": self.line, "uncertain": self.uncertain, "alternatives": self.alternatives}


@dataclass
class Reading:
    digits: list[Digit]
    size: tuple[int, int]  # (width, height) of the image read
    model: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def lines(self) -> list[list[Digit]]:
        count = max((d.line for d in self.digits), default=-1) + 1
        return [[d for d in self.digits if d.line == i] for i in range(count)]

    @property
    def line_texts(self) -> list[str]:
        return ["".join(str(d.digit) for d in line) for line in self.lines]

    @property
    def text(self) -> str:
        return " ".join(self.line_texts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN.md's ``read --json`` (without the file name)."""
        return {"text": self.text, "lines": self.line_texts,
                "digits": [d.to_dict() for d in self.digits]}


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Image bytes → upright BGR uint8 array (EXIF orientation applied); :class:`ImageError` if not."""
    if not data:
        raise ImageError("the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            if w * h > max_pixels:
                raise ImageError(f"the image has {w}×{h} = {w * h:,} pixels, more than {max_pixels:,}")
            img.load()
            upright = ImageOps.exif_transpose(img)
            rgb = np.asarray(upright.convert("RGB"))
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError("not a readable image (JPEG, PNG or another common format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"the image is corrupt or truncated ({exc})") from exc
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


_MODELS: dict[str, LoadedModel] = {}


def default_model() -> LoadedModel:
    """The shipped checkpoint, loaded once per process."""
    key = str(DEFAULT_CHECKPOINT)
    if key not in _MODELS:
        _MODELS[key] = load_checkpoint(DEFAULT_CHECKPOINT)
    return _MODELS[key]


def _as_array(image: np.ndarray | bytes | str | Path) -> np.ndarray:
    if isinstance(image, (str, Path)):
        return decode_image(Path(image).read_bytes())
    if isinstance(image, (bytes, bytearray)):
        return decode_image(bytes(image))
    return np.asarray(image)


def read(image: np.ndarray | bytes | str | Path, *, model: LoadedModel | None = None,
         uncertain_below: float = UNCERTAIN_BELOW) -> Reading:
    """Find and classify every digit of ``image`` (a BGR/grey array, image bytes or a path).

    All digits are classified in one batch. The image is not modified.
    """
    t0 = time.perf_counter()
    array = _as_array(image)
    model = model or default_model()
    t1 = time.perf_counter()
    seg = segment(array)
    # One batch: every box whole, plus the candidate pieces of boxes that may hold touching digits.
    candidates = [box for b in seg.boxes for box in [b, *b.pieces]]
    crops = batch_to_mnist([seg.crop(b) for b in candidates])
    t2 = time.perf_counter()
    probs = model.predict_proba(torch.from_numpy(crops)) if len(crops) else np.zeros((0, 10))
    t3 = time.perf_counter()
    by_box = {id(box): p for box, p in zip(candidates, probs)}
    digits = []
    for line_no, line in enumerate(seg.lines):
        for box in line:
            for part in _choose_parts(box, by_box):
                digits.append(_digit(part, by_box[id(part)], line_no, uncertain_below))
    timings = {"decode": (t1 - t0) * 1e3, "segment": (t2 - t1) * 1e3, "classify": (t3 - t2) * 1e3}
    return Reading(digits, (array.shape[1], array.shape[0]), model.name,
                   {k: round(v, 2) for k, v in timings.items()})


def _choose_parts(box, probs: dict[int, np.ndarray]) -> list:
    """The box itself, or its pieces when each piece reads more surely than the whole does."""
    if not box.pieces:
        return [box]
    whole = float(probs[id(box)].max())
    parts = [float(probs[id(p)].max()) for p in box.pieces]
    # The margin keeps a clear single digit whole: its own confidence is already near the ceiling,
    # so pieces win only when the whole reads clearly worse than each of them.
    return box.pieces if min(parts) > whole + SPLIT_MARGIN else [box]


def _digit(box, p: np.ndarray, line_no: int, uncertain_below: float) -> Digit:
    order = np.argsort(p)[::-1][:3]
    confidence = float(p[order[0]])
    return Digit(digit=int(order[0]), confidence=confidence, box=box.as_list(), line=line_no,
                 uncertain=confidence < uncertain_below,
                 alternatives=[{"digit": int(k), "confidence": round(float(p[k]), 4)} for k in order])


def annotate(image: np.ndarray, reading: Reading) -> np.ndarray:
    """A BGR copy of ``image`` with a red box round each digit and the digit read in green beside it.

    Uncertain digits get an orange box and a "?" after the digit.
    """
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image[:, :, :3].copy()
    scale_ref = max(out.shape[:2])
    thickness = max(1, scale_ref // 500)
    for d in reading.digits:
        x, y, w, h = d.box
        colour = ORANGE if d.uncertain else RED
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), colour, thickness)
        label = f"{d.digit}?" if d.uncertain else str(d.digit)
        font_scale = max(0.4, h / 60)
        text_thickness = max(1, int(round(font_scale * 2)))
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, text_thickness)
        # Beside the box, top-right; inside the image even for digits at the right edge.
        tx = min(x + w + 2, out.shape[1] - tw - 1)
        ty = max(y + th, th + 1)
        cv2.putText(out, label, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, GREEN, text_thickness,
                    cv2.LINE_AA)
    return out
