"""read(image) → :class:`~ml.reading.result.Reading`: segment, classify every box, and with a model that
has the "not a digit" output, cut the boxes it doubts and choose the most probable digits line by line.

>>> import numpy as np
>>> reading = read(np.full((60, 60, 3), 255, np.uint8))
>>> reading.text, reading.to_dict()["digits"]
('', [])
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ml.models.checkpoint import LoadedModel, load_checkpoint
from ml.models.config import DIGIT_CLASSES, NOT_A_DIGIT
from ml.models.preprocess import batch_to_mnist
from ml.paths import DEFAULT_CHECKPOINT

from .boxes import Box, Segmentation
from .decode import decode_image
from .lines import line_height
from .params import ALL_STEPS, READER, ReaderParams, Steps
from .result import Digit, Reading
from .segment import segment
from .split import choose, line_candidates

_MODELS: dict[str, LoadedModel] = {}


def default_model() -> LoadedModel:
    """The shipped checkpoint, loaded once per process.

    >>> default_model().family
    'cnn'
    """
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
         steps: Steps = ALL_STEPS, params: ReaderParams = READER) -> Reading:
    """Find and classify every digit of ``image`` (a BGR/grey array, image bytes or a path).

    Every box found is classified whole, in one batch. With a model that has the "not a digit"
    output, boxes it doubts (see :func:`ml.reading.split.doubtful`) are then cut into pieces; runs of
    those pieces and of neighbouring boxes are classified in a second batch, and line by line the
    reading the classifier finds most probable is chosen (see :func:`ml.reading.split.choose`). The
    image is not modified.

    >>> reading = read("docs/samples/digits.png")
    >>> reading.line_texts, reading.digits[0].box, reading.digits[0].uncertain
    (['75013', '20261125', '4096'], [40, 47, 53, 58], False)
    """
    t0 = time.perf_counter()
    array = _as_array(image)
    model = model or default_model()
    t1 = time.perf_counter()
    seg = segment(array, steps, params=params.segment)
    t2 = time.perf_counter()
    whole = _classify(model, seg, seg.boxes)
    if model.classifier.outputs == NOT_A_DIGIT + 1 and steps.choose:
        digits = _chosen_digits(model, seg, whole, params)
    else:
        digits = _whole_digits(seg, whole, params)
    t3 = time.perf_counter()
    timings = {"decode": (t1 - t0) * 1e3, "segment": (t2 - t1) * 1e3, "classify": (t3 - t2) * 1e3}
    return Reading(digits, (array.shape[1], array.shape[0]), model.name,
                   {k: round(v, 2) for k, v in timings.items()})


def _whole_digits(seg: Segmentation, whole: np.ndarray, params: ReaderParams) -> list[Digit]:
    """Every box as one digit (a ten-class model, or the ablation without the classifier's choice)."""
    digits, k = [], 0
    for line_no, line in enumerate(seg.lines):
        for box in line:
            digits.append(_digit(seg, box, whole[k], line_no, params))
            k += 1
    return digits


def _chosen_digits(model: LoadedModel, seg: Segmentation, whole: np.ndarray,
                   params: ReaderParams) -> list[Digit]:
    """Cut what the model doubts, classify the new candidates in one batch, choose line by line."""
    known = {id(b): p for b, p in zip(seg.boxes, whole)}
    plans = [line_candidates(line, [known[id(b)] for b in line], params=params) for line in seg.lines]
    fresh = [u.box for plan in plans for u in plan if id(u.box) not in known]
    known.update(zip(map(id, fresh), _classify(model, seg, fresh)))
    digits, line_no = [], 0
    for line, plan in zip(seg.lines, plans):
        probs = np.stack([known[id(u.box)] for u in plan])
        chosen = choose(plan, probs, line_height(line), params=params)
        digits += [_digit(seg, plan[k].box, probs[k], line_no, params) for k in chosen]
        line_no += bool(chosen)  # a line of marks only (a ruled line's pieces) is no line of digits
    return digits


def _classify(model: LoadedModel, seg: Segmentation, boxes: list[Box]) -> np.ndarray:
    if not boxes:
        return np.zeros((0, model.classifier.outputs), np.float32)
    crops = batch_to_mnist([seg.crop(b) for b in boxes])
    return model.predict_proba(torch.from_numpy(crops))


def _digit(seg: Segmentation, box: Box, p: np.ndarray, line_no: int, params: ReaderParams) -> Digit:
    order = np.argsort(p[:DIGIT_CLASSES])[::-1][:3]
    confidence = float(p[order[0]])
    return Digit(digit=int(order[0]), confidence=confidence, box=seg.image_box(box), line=line_no,
                 uncertain=confidence < params.uncertain_below,
                 alternatives=[{"digit": int(k), "confidence": round(float(p[k]), 4)} for k in order])
