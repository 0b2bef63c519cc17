"""Retraining: MNIST plus the samples of accepted corrections → a candidate checkpoint (``ml.training.run``),
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
from ml.models.config import NOT_A_DIGIT
from ml.progress import Report, to_report
from ml.reading.decode import ImageError, decode_image
from ml.reading.recrop import crops_at
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

    @property
    def digit_count(self) -> int:
        return int((self.labels < NOT_A_DIGIT).sum())

    @property
    def not_a_digit_count(self) -> int:
        return int((self.labels == NOT_A_DIGIT).sum())


@dataclass
class Outcome:
    path: Path
    accuracy: float
    baseline: float | None  # the active model's accuracy on the same test images
    metrics: dict
    feedback_digits: int  # accepted corrections trained on (digits and not-a-digit boxes)
    train_samples: int
    seconds: float
    fit_seconds: float = 0.0  # fitting only: what the next estimates are measured from
    data: dict = field(default_factory=dict)  # what was trained and judged on, counted (_corrections)
    # {"mnist_new", "mnist_active", "held_new", "held_active"}: worker.holdout's scores of each model.
    scores: dict = field(default_factory=dict)
    feedback_not_digits: int = 0  # of feedback_digits, the boxes trained on as "not a digit"


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
            # Why, with the storage's names, to the worker's log; the run's log (staff read it) says that.
            log.warning("feedback sample left out: upload %s: image unreadable: %s", upload.id, exc)
            _skip(skipped, f"upload {upload.id}: its image cannot be read")
            continue
        for crop, (box, label) in zip(crops, wanted):
            if crop is None:
                _skip(skipped, f"upload {upload.id}: no ink in box {box}")
                continue
            images.append(crop)
            labels.append(label)
            uploads.append(str(upload.id))
    if not images:
        return _no_samples()
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
    """Train a CNN by ``params`` (``web.registry.params.TRAIN_DEFAULTS``), save it to ``out``, and score it
    and ``active`` on the same MNIST test images and the same held-out corrections."""
    start = time.perf_counter()
    request = TrainRequest(recipe=params["recipe"], epochs=params["epochs"], limit=params["limit"],
                           test_limit=params["test_limit"], seed=params["seed"], dry_run=params["dry_run"])
    to_train, held, data = _corrections(params, request)
    extra = Split(to_train.images, to_train.labels, "accepted corrections") if len(to_train) else None
    train, test = training_splits(request, extra)
    data.update(mnist=len(train) - len(to_train), mnist_test=len(test))
    report(progress=0.01, line=_samples_line(data))
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
                   feedback_digits=len(to_train), feedback_not_digits=to_train.not_a_digit_count,
                   train_samples=len(train),
                   seconds=time.perf_counter() - start, fit_seconds=trained.seconds, data=data, scores=scores)


def _corrections(params: dict, request: TrainRequest) -> tuple[FeedbackSamples, FeedbackSamples, dict]:
    """The accepted corrections to train on and to judge on (split by upload), and what they were."""
    skipped: list[str] = []
    samples = feedback_digits(skipped=skipped) if params["feedback"] else _no_samples()
    to_train, held = split_by_upload(samples)
    dropped = 0
    if not recipe(request.recipe, request.family)["config"].get("reject"):
        # A model of this recipe has no "not a digit" output to learn them with; judged on, they count
        # against it, as the reader would misread those boxes as digits.
        kept = digits_only(to_train)
        dropped, to_train = len(to_train) - len(kept), kept
    data = {"corrections": len(to_train), "correction_uploads": len(set(to_train.uploads)),
            "held_out": len(held), "held_out_uploads": len(set(held.uploads)),
            "not_a_digit_left_out": dropped, "feedback": bool(params["feedback"]),
            "samples": len(samples), "sample_digits": samples.digit_count,
            "sample_not_a_digit": samples.not_a_digit_count, "left_out": len(skipped),
            "left_out_reasons": skipped[:20]}
    return to_train, held, data


def _samples_line(data: dict) -> str:
    """The retrain log's count of what the accepted corrections gave (``data``: :func:`_corrections`)."""
    if not data["feedback"]:
        return "accepted corrections not used (feedback off)"
    digits, reasons = data["sample_digits"], data["left_out_reasons"]
    line = (f"{data['samples']} samples from accepted corrections: {digits} "
            f"digit{'' if digits == 1 else 's'}, {data['sample_not_a_digit']} not a digit")
    if data["not_a_digit_left_out"]:
        line += (f" ({data['not_a_digit_left_out']} not-a-digit not trained on: this recipe has no such "
                 "output)")
    if data["left_out"]:
        more = ", …" if data["left_out"] > len(reasons[:5]) else ""
        line += f"; {data['left_out']} left out ({'; '.join(reasons[:5])}{more})"
    return line


def _no_samples() -> FeedbackSamples:
    return FeedbackSamples(torch.zeros((0, 28, 28), dtype=torch.uint8), torch.zeros((0,), dtype=torch.int64),
                           [])
