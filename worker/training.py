"""Retraining: MNIST plus the digits of accepted feedback → a candidate checkpoint (``ml.training.run``),
compared with the active model on the same MNIST test images and on the accepted corrections held out
from training (``worker.holdout``). The Celery task in ``worker.tasks`` records what
this returns.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from django.core.files.storage import default_storage

from ml.data import Split
from ml.models.checkpoint import LoadedModel, load_checkpoint
from ml.models.preprocess import to_mnist
from ml.progress import Report, to_report
from ml.reading.boxes import Segmentation
from ml.reading.decode import ImageError, decode_image
from ml.reading.segment import segment
from ml.training.evaluate import evaluate
from ml.training.recipes import TrainRequest, recipe
from ml.training.run import train_checkpoint, training_splits
from web.uploads.selectors import feedback_for_training
from worker.holdout import correction_scores, digits_only, mnist_scores, split_by_upload

log = logging.getLogger(__name__)


@dataclass
class FeedbackSamples:
    """Accepted corrections as MNIST-style samples, each with the upload it was cut from."""

    images: torch.Tensor  # uint8 (N, 28, 28), ink high
    labels: torch.Tensor  # int64 (N,): the digit, or 10 (NOT_A_DIGIT) for a box that is not a digit
    uploads: list[str]  # the upload id of each sample: held-out corrections are chosen by upload

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class Outcome:
    path: Path
    accuracy: float
    baseline: float | None  # the active model's accuracy on the same test images
    metrics: dict
    feedback_digits: int
    train_samples: int
    seconds: float
    fit_seconds: float = 0.0  # fitting only: what the next estimates are measured from
    data: dict = field(default_factory=dict)  # what was trained and judged on, counted (_corrections)
    # {"mnist_new", "mnist_active", "held_new", "held_active"}: worker.holdout's scores of each model.
    scores: dict = field(default_factory=dict)


def feedback_digits() -> FeedbackSamples:
    """The corrected digits of accepted feedback as MNIST-style uint8 images (N, 28, 28), labels and uploads.

    Each upload is segmented again and each corrected digit is cut out at the box its reading
    recorded (image pixels), so the crop is what the classifier saw; unreadable images are skipped.
    """
    images, labels, uploads = [], [], []
    for feedback in feedback_for_training():
        upload = feedback.upload
        with default_storage.open(upload.image.name, "rb") as f:
            seg = segment_image(f.read())
        if seg is None:
            continue
        for correction in feedback.digits:
            index = correction["index"]
            if not 0 <= index < len(upload.digits):
                continue
            crop = seg.crop(seg.box_at(upload.digits[index]["box"]))
            images.append(np.round(to_mnist(crop) * 255).astype(np.uint8))
            labels.append(int(correction["corrected"]))
            uploads.append(str(upload.id))
    if not images:
        return _no_samples()
    return FeedbackSamples(torch.from_numpy(np.stack(images)), torch.tensor(labels, dtype=torch.int64),
                           uploads)


def segment_image(data: bytes) -> Segmentation | None:
    try:
        return segment(decode_image(data))
    except ImageError:
        return None


def retrain(*, params: dict, active: LoadedModel | None, out: Path, report: Report,
            run_id: int | None = None) -> Outcome:
    """Train a CNN by ``params`` (``web.registry.params.TRAIN_DEFAULTS``), save it to ``out``, and score it
    and ``active`` on the same MNIST test images and the same held-out corrections."""
    start = time.perf_counter()
    request = TrainRequest(recipe=params["recipe"], epochs=params["epochs"], limit=params["limit"],
                           test_limit=params["test_limit"], seed=params["seed"], dry_run=params["dry_run"])
    to_train, held, data = _corrections(params, request)
    extra = Split(to_train.images, to_train.labels, "accepted corrections") if len(to_train) else None
    train, test = training_splits(request, extra)
    data.update(mnist=len(train) - len(to_train), mnist_test=len(test))
    report(progress=0.02, line=f"training on {len(train)} images ({data['mnist']} MNIST, {len(to_train)} "
                               f"accepted corrections from {data['correction_uploads']} uploads); judging on "
                               f"{len(test)} MNIST test images and {len(held)} held-out corrections from "
                               f"{data['held_out_uploads']} uploads")
    trained = train_checkpoint(request, out, train, test, progress=to_report(report, start=0.05, share=0.9),
                               command=f"DigitScan retrain (ExperimentRun #{run_id})",
                               notes={"params": params, "data_summary": data})
    report(progress=0.96, line=f"new model: MNIST test accuracy {trained.metrics['accuracy']:.2%}")
    new = load_checkpoint(out).classifier  # judged as saved (half-precision weights), as readers get it
    scores = {"mnist_new": mnist_scores(trained.metrics), "held_new": correction_scores(new, held)}
    baseline = None
    if active is not None:
        active_metrics = evaluate(active.classifier, test)
        baseline = active_metrics["accuracy"]
        scores.update(mnist_active=mnist_scores(active_metrics),
                      held_active=correction_scores(active.classifier, held))
    return Outcome(path=out, accuracy=trained.metrics["accuracy"], baseline=baseline, metrics=trained.metrics,
                   feedback_digits=len(to_train), train_samples=len(train),
                   seconds=time.perf_counter() - start, fit_seconds=trained.seconds, data=data, scores=scores)


def _corrections(params: dict, request: TrainRequest) -> tuple[FeedbackSamples, FeedbackSamples, dict]:
    """The accepted corrections to train on and to judge on (split by upload), and what they were."""
    samples = feedback_digits() if params["feedback"] else _no_samples()
    to_train, held = split_by_upload(samples)
    dropped = 0
    if not recipe(request.recipe, request.family)["config"].get("reject"):
        # A model of this recipe has no "not a digit" output to learn them with; judged on, they count
        # against it, as the reader would misread those boxes as digits.
        kept = digits_only(to_train)
        dropped, to_train = len(to_train) - len(kept), kept
    data = {"corrections": len(to_train), "correction_uploads": len(set(to_train.uploads)),
            "held_out": len(held), "held_out_uploads": len(set(held.uploads)),
            "not_a_digit_left_out": dropped, "feedback": bool(params["feedback"])}
    return to_train, held, data


def _no_samples() -> FeedbackSamples:
    return FeedbackSamples(torch.zeros((0, 28, 28), dtype=torch.uint8), torch.zeros((0,), dtype=torch.int64),
                           [])
