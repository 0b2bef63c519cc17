"""Retraining: MNIST plus the digits of accepted feedback → a candidate checkpoint (``ml.training.run``),
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
from ml.models.preprocess import to_mnist
from ml.progress import Report, to_report
from ml.reading.boxes import Segmentation
from ml.reading.decode import ImageError, decode_image
from ml.reading.segment import segment
from ml.training.evaluate import evaluate
from ml.training.recipes import TrainRequest
from ml.training.run import train_checkpoint, training_splits
from web.uploads.selectors import feedback_for_training

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    path: Path
    accuracy: float
    baseline: float | None  # the active model's accuracy on the same test images
    metrics: dict
    feedback_digits: int
    train_samples: int
    seconds: float


def feedback_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The corrected digits of accepted feedback as MNIST-style uint8 images (N, 28, 28) and labels.

    Each upload is segmented again and each corrected digit is cut out at the box its reading
    recorded (image pixels), so the crop is what the classifier saw; unreadable images are skipped.
    """
    images, labels = [], []
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
    if not images:
        return torch.zeros((0, 28, 28), dtype=torch.uint8), torch.zeros((0,), dtype=torch.int64)
    return torch.from_numpy(np.stack(images)), torch.tensor(labels, dtype=torch.int64)


def segment_image(data: bytes) -> Segmentation | None:
    try:
        return segment(decode_image(data))
    except ImageError:
        return None


def retrain(*, params: dict, active: LoadedModel | None, out: Path, report: Report,
            run_id: int | None = None) -> Outcome:
    """Train a CNN by ``params`` (``web.registry.params.TRAIN_DEFAULTS``) and save it to ``out``."""
    start = time.perf_counter()
    request = TrainRequest(recipe=params["recipe"], epochs=params["epochs"], limit=params["limit"],
                           test_limit=params["test_limit"], seed=params["seed"], dry_run=params["dry_run"])
    extra = Split(*feedback_digits(), "feedback digits") if params["feedback"] else None
    train, test = training_splits(request, extra)
    count = len(extra) if extra is not None else 0
    report(progress=0.02, line=f"training on {len(train)} images ({count} from feedback), "
                               f"testing on {len(test)}")
    trained = train_checkpoint(request, out, train, test, progress=to_report(report, start=0.05, share=0.9),
                               command=f"DigitScan retrain (ExperimentRun #{run_id})",
                               notes={"params": params})
    report(progress=0.97, line=f"test accuracy {trained.metrics['accuracy']:.2%}")
    baseline = evaluate(active.classifier, test)["accuracy"] if active is not None else None
    return Outcome(path=out, accuracy=trained.metrics["accuracy"], baseline=baseline, metrics=trained.metrics,
                   feedback_digits=count, train_samples=len(train), seconds=time.perf_counter() - start)
