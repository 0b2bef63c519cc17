"""Retraining: MNIST plus the samples of accepted corrections → a candidate checkpoint (``ml.training.run``),
compared with the active model on the same test images. The Celery task in ``worker.tasks`` records what
this returns.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from django.core.files.storage import default_storage

from ml.data import Split
from ml.models.checkpoint import LoadedModel
from ml.models.config import NOT_A_DIGIT
from ml.progress import Report, to_report
from ml.reading.decode import ImageError, decode_image
from ml.reading.recrop import crops_at
from ml.training.evaluate import evaluate
from ml.training.recipes import TrainRequest, recipe
from ml.training.run import train_checkpoint, training_splits
from web.uploads.selectors import feedback_for_training

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    path: Path
    accuracy: float
    baseline: float | None  # the active model's accuracy on the same test images
    metrics: dict
    feedback_digits: int  # feedback samples trained on that are digits
    train_samples: int
    seconds: float
    feedback_not_digits: int = 0  # feedback samples trained on as "not a digit" (NOT_A_DIGIT)


@dataclass
class FeedbackSamples:
    """Accepted corrections as training samples: MNIST-style ``images`` uint8 (N, 28, 28), ink high;
    ``labels`` int64 (N,), 0–9 or ``NOT_A_DIGIT`` (10) for a box that holds no digit; ``uploads``, the
    upload id (str) each sample was cut from, so that corrections can be held out by upload."""

    images: torch.Tensor
    labels: torch.Tensor
    uploads: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def digit_count(self) -> int:
        return int((self.labels < NOT_A_DIGIT).sum())

    @property
    def not_a_digit_count(self) -> int:
        return int((self.labels == NOT_A_DIGIT).sum())

    def digits_only(self) -> FeedbackSamples:
        """The samples that are digits (for a model without the "not a digit" output)."""
        keep = self.labels < NOT_A_DIGIT
        return FeedbackSamples(self.images[keep], self.labels[keep],
                               [u for u, k in zip(self.uploads, keep.tolist()) if k])


def feedback_digits(*, skipped: list[str] | None = None) -> FeedbackSamples:
    """The accepted corrections (the newest accepted one per upload) as training samples.

    Each upload's image is segmented again and cut at the boxes its correction concerns (image pixels):
    a relabelled or confirmed box as its digit, a box marked "not a digit" as ``NOT_A_DIGIT``, a missed
    digit the person boxed at that box. What cannot be a sample — a digit added without a box, a box with
    no ink, an image that no longer decodes — is left out, with the reason appended to ``skipped``.
    """
    images, labels, uploads = [], [], []
    for feedback in feedback_for_training():
        upload = feedback.upload
        wanted = _samples_wanted(feedback.operations, upload.digits or [], skipped, str(upload.id))
        if not wanted:
            continue
        try:
            with default_storage.open(upload.image.name, "rb") as f:
                crops = crops_at(decode_image(f.read()), [box for box, _ in wanted])
        except (ImageError, OSError, ValueError) as exc:  # gone from storage, or no longer decodes
            _skip(skipped, f"upload {upload.id}: its image cannot be read ({exc})")
            continue
        for crop, (box, label) in zip(crops, wanted):
            if crop is None:
                _skip(skipped, f"upload {upload.id}: no ink in box {box}")
                continue
            images.append(crop)
            labels.append(label)
            uploads.append(str(upload.id))
    if not images:
        return FeedbackSamples(torch.zeros((0, 28, 28), dtype=torch.uint8),
                               torch.zeros((0,), dtype=torch.int64), [])
    return FeedbackSamples(torch.from_numpy(np.stack(images)), torch.tensor(labels, dtype=torch.int64),
                           uploads)


def _samples_wanted(operations: list[dict], digits: list[dict], skipped: list[str] | None,
                    upload_id: str) -> list[tuple[list[int], int]]:
    """(box, label) for each operation that is a sample."""
    wanted = []
    for op in operations:
        if op["op"] == "add":
            if op.get("box"):
                wanted.append((op["box"], op["digit"]))
            else:
                _skip(skipped, f"upload {upload_id}: added {op['digit']} has no box")
        elif 0 <= op["index"] < len(digits):
            label = NOT_A_DIGIT if op["op"] == "not_a_digit" else op["digit"]
            wanted.append((digits[op["index"]]["box"], label))
    return wanted


def _skip(skipped: list[str] | None, reason: str) -> None:
    log.info("feedback sample left out: %s", reason)
    if skipped is not None:
        skipped.append(reason)


def retrain(*, params: dict, active: LoadedModel | None, out: Path, report: Report,
            run_id: int | None = None) -> Outcome:
    """Train a CNN by ``params`` (``web.registry.params.TRAIN_DEFAULTS``) and save it to ``out``."""
    start = time.perf_counter()
    request = TrainRequest(recipe=params["recipe"], epochs=params["epochs"], limit=params["limit"],
                           test_limit=params["test_limit"], seed=params["seed"], dry_run=params["dry_run"])
    samples, skipped = _feedback_for(request) if params["feedback"] else (None, [])
    extra = Split(samples.images, samples.labels, "feedback samples") if samples is not None else None
    train, test = training_splits(request, extra)
    report(progress=0.02, line=f"training on {len(train)} images, testing on {len(test)}")
    if samples is not None:
        digits = samples.digit_count
        report(line=f"{len(samples)} feedback samples from accepted corrections: {digits} "
                    f"digit{'' if digits == 1 else 's'}, {samples.not_a_digit_count} not a digit"
                    + (f"; {len(skipped)} left out ({'; '.join(skipped[:5])}"
                       f"{', …' if len(skipped) > 5 else ''})" if skipped else ""))
    trained = train_checkpoint(request, out, train, test, progress=to_report(report, start=0.05, share=0.9),
                               command=f"DigitScan retrain (ExperimentRun #{run_id})",
                               notes={"params": params})
    report(progress=0.97, line=f"test accuracy {trained.metrics['accuracy']:.2%}")
    baseline = evaluate(active.classifier, test)["accuracy"] if active is not None else None
    return Outcome(path=out, accuracy=trained.metrics["accuracy"], baseline=baseline, metrics=trained.metrics,
                   feedback_digits=samples.digit_count if samples is not None else 0,
                   feedback_not_digits=samples.not_a_digit_count if samples is not None else 0,
                   train_samples=len(train), seconds=time.perf_counter() - start)


def _feedback_for(request: TrainRequest) -> tuple[FeedbackSamples, list[str]]:
    """The feedback samples a model of ``request``'s recipe can learn: without the "not a digit" output
    (the thesis recipe), the digits only."""
    skipped: list[str] = []
    samples = feedback_digits(skipped=skipped)
    if not recipe(request.recipe, request.family)["config"].get("reject") and samples.not_a_digit_count:
        skipped.append(f"{samples.not_a_digit_count} not-a-digit samples (the {request.recipe} recipe's "
                       "model has no not-a-digit output)")
        samples = samples.digits_only()
    return samples, skipped
