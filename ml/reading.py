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
from .segment import ALL_STEPS, DIGIT_WIDTH, Box, Steps, segment

# Digits whose top probability is below this are marked uncertain (and drawn in orange). Calibrated
# on generated photo pages (docs/results/reading.md): 3 % of digits flagged, most misreads among them.
UNCERTAIN_BELOW = 0.85
# Candidate digits: runs of at most MAX_RUN pieces (a digit may have been cut into several, see
# segment.CUTS_PER_DIGIT), at most MAX_WIDTH line heights wide, with gaps of at most MAX_GAP line
# heights between their pieces.
MAX_RUN = 6
MAX_WIDTH = 1.6
MAX_GAP = 0.25
# Boxes closer than JOIN_GAP line heights may be read as one digit even when both read clearly on
# their own: the two strokes of a thin 4 broken apart each read as a confident 1.
JOIN_GAP = 0.1
# A box read whole is cut into pieces only when "not a digit" gets more than DOUBT_REJECT or its
# best digit less than DOUBT_CONFIDENCE.
DOUBT_REJECT = 0.15
DOUBT_CONFIDENCE = 0.85
# A candidate shorter than SHORT line heights pays SHORT_PENALTY (a log-probability) to be a digit.
SHORT = 0.55
SHORT_PENALTY = float(np.log(0.2))
# Every digit read costs DIGIT_COST, so a box is only split into more digits when the pieces read
# clearly better than the whole (the two halves of a 0 both look like 1s).
DIGIT_COST = float(np.log(0.6))
# And one of digit height pays REJECT_PENALTY to be "not a digit": on a page of numbers most such
# things are digits, and dropping a box must not be a cheap way out of reading two touching digits.
REJECT_PENALTY = float(np.log(0.1))
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
         uncertain_below: float = UNCERTAIN_BELOW, steps: Steps = ALL_STEPS) -> Reading:
    """Find and classify every digit of ``image`` (a BGR/grey array, image bytes or a path).

    Every box found is classified whole, in one batch. With a model that has the "not a digit"
    output, boxes it doubts (see :func:`doubtful`) are then cut into pieces; runs of those pieces and
    of neighbouring boxes are classified in a second batch, and line by line the reading the
    classifier finds most probable is chosen (see :func:`choose`). The image is not modified.
    """
    t0 = time.perf_counter()
    array = _as_array(image)
    model = model or default_model()
    t1 = time.perf_counter()
    seg = segment(array, steps)
    t2 = time.perf_counter()
    boxes = seg.boxes
    whole = _classify(model, seg, boxes)
    rejecting = model.classifier.outputs == 11 and steps.choose
    digits = []
    if not rejecting:
        k = 0
        for line_no, line in enumerate(seg.lines):
            for box in line:
                digits.append(_digit(seg, box, whole[k], line_no, uncertain_below))
                k += 1
    else:
        known = {id(b): p for b, p in zip(boxes, whole)}
        plans = []
        for line in seg.lines:
            line_h = _line_height(line)
            # Boxes that may join their neighbours: doubtful ones and short ones (a detached bar).
            loose = [doubtful(known[id(b)]) or b.h < SHORT * line_h for b in line]
            atoms, parent = [], []
            for k, b in enumerate(line):
                parts = b.pieces if b.pieces and doubtful(known[id(b)]) else [b]
                atoms += parts
                parent += [k] * len(parts)
            plans.append(candidates(atoms, line, parent, loose))
        fresh = [u[2] for plan in plans for u in plan if id(u[2]) not in known]
        known.update(zip(map(id, fresh), _classify(model, seg, fresh)))
        line_no = 0
        for line, plan in zip(seg.lines, plans):
            probs = np.stack([known[id(u[2])] for u in plan])
            chosen = choose(plan, probs, _line_height(line))
            for k in chosen:
                digits.append(_digit(seg, plan[k][2], probs[k], line_no, uncertain_below))
            line_no += bool(chosen)  # a line of marks only (a ruled line's pieces) is no line of digits
    t3 = time.perf_counter()
    timings = {"decode": (t1 - t0) * 1e3, "segment": (t2 - t1) * 1e3, "classify": (t3 - t2) * 1e3}
    return Reading(digits, (array.shape[1], array.shape[0]), model.name,
                   {k: round(v, 2) for k, v in timings.items()})


def _classify(model: LoadedModel, seg, boxes: list[Box]) -> np.ndarray:
    if not boxes:
        return np.zeros((0, model.classifier.outputs), np.float32)
    crops = batch_to_mnist([seg.crop(b) for b in boxes])
    return model.predict_proba(torch.from_numpy(crops))


def _line_height(line: list[Box]) -> float:
    return float(np.median([b.h for b in line]))


def doubtful(p: np.ndarray) -> bool:
    """Whether a box read whole might not be one digit: the reject output has a say, or no digit
    is clearly ahead. Only such boxes are cut (clear digits cost nothing more)."""
    return bool(p[10] > DOUBT_REJECT or p[:10].max() < DOUBT_CONFIDENCE)


Unit = tuple[int, int, Box]  # pieces [start, end) of a line joined into one candidate digit


def candidates(atoms: list[Box], line: list[Box], parent: list[int] | None = None,
               loose: list[bool] | None = None) -> list[Unit]:
    """Every run of up to ``MAX_RUN`` neighbouring pieces of a line that could be one digit.

    ``atoms`` are the line's boxes, with doubtful ones replaced by their cut pieces; ``parent[i]``
    is the index in ``line`` of the box atom ``i`` comes from. A run is a candidate while it stays
    narrower than ``MAX_WIDTH`` line heights, its pieces are no further apart than ``MAX_GAP`` line
    heights and it is not much taller than the line; a run joining different boxes also needs one
    of them to be ``loose`` (doubtful or short) or the two to be almost touching (``JOIN_GAP``), so
    two clear digits apart are never read as one. Each box stays a candidate as it is, however many
    pieces it was cut into.
    """
    parent = parent if parent is not None else list(range(len(atoms)))
    loose = loose if loose is not None else [True] * len(line)
    line_h = _line_height(line)
    units: list[Unit] = []
    for i, first in enumerate(atoms):
        unit, joins_loose = first, loose[parent[i]]
        units.append((i, i + 1, unit))
        for j in range(i + 1, min(i + MAX_RUN, len(atoms))):
            gap = atoms[j].x - unit.x2
            unit = unit.union(atoms[j])
            joins_loose = joins_loose or loose[parent[j]]
            if gap > MAX_GAP * line_h or unit.w > MAX_WIDTH * line_h or unit.h > 1.6 * line_h:
                break
            joins_loose = joins_loose or (parent[j] != parent[j - 1] and gap <= JOIN_GAP * line_h)
            if parent[j] != parent[i] and not joins_loose:
                continue
            units.append((i, j + 1, unit))
    # Each box whole: its own object, whose probabilities are already known.
    for k, box in enumerate(line):
        span = [i for i, p in enumerate(parent) if p == k]
        start, end = span[0], span[-1] + 1
        units = [u for u in units if (u[0], u[1]) != (start, end)]
        units.append((start, end, box))
    return units


def choose(units: list[Unit], probs: np.ndarray, line_h: float) -> list[int]:
    """The most probable reading of a line: a partition of its pieces into digits and non-digits.

    Each run of pieces is either a digit, scored by the log-probability of its best digit, or not a
    digit, scored by the log-probability of the reject class; a run much shorter than the line's
    digits pays ``SHORT_PENALTY`` to be a digit (the detached bar of a 5 is not a 7). Dynamic
    programming over the pieces finds the best-scoring partition; the indices of the runs read as
    digits are returned, left to right.
    """
    n = max(u[1] for u in units)
    best = np.full(n + 1, -np.inf)
    best[0] = 0.0
    back: list[tuple[int, int, bool] | None] = [None] * (n + 1)
    for k, (i, j, box) in sorted(enumerate(units), key=lambda e: e[1][1]):
        p = probs[k]
        digit = float(np.log(max(p[:10].max(), 1e-9))) + DIGIT_COST
        if box.h < SHORT * line_h:
            digit += SHORT_PENALTY
        reject = float(np.log(max(p[10], 1e-9)))
        if box.h >= SHORT * line_h:
            # Per digit's width it covers: a wide box dropped would take several digits with it.
            reject += REJECT_PENALTY * max(1.0, box.w / (DIGIT_WIDTH * line_h))
        # Only a single piece or a whole box may be "not a digit": dropping a run of several pieces
        # at once would be a cheap way out of reading the digits among them.
        options = ((digit, True), (reject, False)) if j - i == 1 or box.pieces else ((digit, True),)
        for score, is_digit in options:
            if best[i] + score > best[j]:
                best[j], back[j] = best[i] + score, (i, k, is_digit)
    chosen, j = [], n
    while j > 0:
        i, k, is_digit = back[j]
        if is_digit:
            chosen.append(k)
        j = i
    return chosen[::-1]


def _digit(seg, box, p: np.ndarray, line_no: int, uncertain_below: float) -> Digit:
    order = np.argsort(p[:10])[::-1][:3]
    confidence = float(p[order[0]])
    return Digit(digit=int(order[0]), confidence=confidence, box=seg.image_box(box), line=line_no,
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
