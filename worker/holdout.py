"""Corrections held out from a retrain, and how a model does on them.

A new model is judged on accepted corrections it did not train on. They are split by upload, not by
digit: the digits of one photo share its pen, paper and light, so a model that trained on some of them
would be judged on near-copies. Which side an upload falls on depends only on its id (a hash), so it
stays there across retrains: a held-out upload was never in the training data of any model trained
here — the active one included — and the comparison is fair to both.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from ml.models.config import DIGIT_CLASSES, NOT_A_DIGIT
from ml.training.train import pixels

if TYPE_CHECKING:
    from ml.models.classifiers import Classifier
    from worker.training import FeedbackSamples

# The share of uploads whose corrections judge instead of train: enough to judge on once corrections
# accumulate, while three in four still teach the model.
HELD_OUT_SHARE = 0.25


def upload_hash(upload_id: str) -> float:
    """Where ``upload_id`` falls in [0, 1): fixed for an id, spread evenly over ids."""
    digest = hashlib.sha256(f"digitscan-held-out:{upload_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def held_out_uploads(uploads: list[str]) -> set[str]:
    """The uploads among ``uploads`` whose corrections are held out from training.

    Those hashing below :data:`HELD_OUT_SHARE`; when none does and there are at least two uploads, the
    one hashing lowest, so that a few corrections are already judged on. An upload can only move from
    held out to training (when a lower-hashing one arrives), never the other way.
    """
    distinct = sorted(set(uploads), key=upload_hash)
    held = {u for u in distinct if upload_hash(u) < HELD_OUT_SHARE}
    if not held and len(distinct) >= 2:
        held = {distinct[0]}
    return held


def split_by_upload(samples: FeedbackSamples) -> tuple[FeedbackSamples, FeedbackSamples]:
    """``samples`` as (to train on, held out), each sample on its upload's side."""
    held = held_out_uploads(samples.uploads)
    mask = [upload in held for upload in samples.uploads]
    return _pick(samples, [not m for m in mask]), _pick(samples, mask)


def _pick(samples: FeedbackSamples, mask: list[bool]) -> FeedbackSamples:
    index = torch.tensor(mask, dtype=torch.bool).reshape(-1)
    return replace(samples, images=samples.images[index], labels=samples.labels[index],
                   uploads=[u for u, keep in zip(samples.uploads, mask, strict=True) if keep])


def digits_only(samples: FeedbackSamples) -> FeedbackSamples:
    """``samples`` without the "not a digit" ones (for a model that has no such output)."""
    return _pick(samples, [int(label) != NOT_A_DIGIT for label in samples.labels])


def correction_scores(model: Classifier, samples: FeedbackSamples) -> dict:
    """How ``model`` reads ``samples``: correct overall and per class (0–9, then 10 = not a digit).

    The answer is the model's top output over all its outputs, as the reader takes it: a digit read as
    "not a digit" is wrong, and a model without that output is wrong on every box marked not a digit.
    """
    labels = samples.labels.numpy().astype(np.int64)
    if len(labels):
        predicted = np.asarray(model.predict_proba(pixels(samples.images))).argmax(1)
    else:
        predicted = np.zeros(0, dtype=np.int64)
    right = predicted == labels
    per_class = [{"label": c, "samples": int((labels == c).sum()), "correct": int(right[labels == c].sum())}
                 for c in range(DIGIT_CLASSES + 1)]
    return {"samples": int(len(labels)), "correct": int(right.sum()), "per_class": per_class,
            "uploads": len(set(samples.uploads))}


def mnist_scores(metrics: dict) -> dict:
    """``ml.training.evaluate`` metrics in the shape of :func:`correction_scores` (digits 0–9)."""
    matrix = np.array(metrics["confusion_matrix"])
    per_class = [{"label": c, "samples": int(matrix[c].sum()), "correct": int(matrix[c, c])}
                 for c in range(DIGIT_CLASSES)]
    return {"samples": int(matrix.sum()), "correct": int(matrix.trace()), "per_class": per_class}
