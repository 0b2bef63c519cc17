"""Retraining: MNIST plus the digits of accepted feedback → a candidate checkpoint, compared with the active
model on the same test images. The Celery task in ``worker.tasks`` records what this returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from django.core.files.storage import default_storage

import ml
from ml.checkpoint import load_checkpoint, save_checkpoint
from ml.data import Split, load_mnist
from ml.models import build
from ml.preprocess import to_mnist
from ml.recipes import recipe
from ml.segment import segment
from ml.train import evaluate, fit
from web.uploads.selectors import feedback_for_training

log = logging.getLogger(__name__)

Report = Callable[..., None]  # report(progress=0.3, line="epoch 2/14 ...")


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


def segment_image(data: bytes):
    try:
        return segment(ml.decode_image(data))
    except ml.ImageError:
        return None


def training_data(params: dict) -> tuple[Split, Split, int]:
    train, test = load_mnist()
    train = train.subset(params["limit"], seed=params["seed"])
    test = test.subset(params["test_limit"], seed=params["seed"])
    extra_images, extra_labels = feedback_digits() if params["feedback"] else (None, None)
    extra = 0 if extra_images is None else len(extra_labels)
    if extra:
        train = Split(torch.cat([train.images, extra_images]), torch.cat([train.labels, extra_labels]),
                      f"{train.source} + {extra} feedback digits")
    return train, test, extra


def retrain(*, params: dict, active: ml.checkpoint.LoadedModel | None, out: Path, report: Report) -> Outcome:
    """Train a CNN by ``params`` (see ``web.registry.services.TRAIN_DEFAULTS``) and save it to ``out``."""
    start = time.perf_counter()
    train, test, extra = training_data(params)
    report(progress=0.02, line=f"training on {len(train)} images ({extra} from feedback), "
                               f"testing on {len(test)}")
    spec = recipe(params["recipe"], "cnn")
    overrides = {**spec["train"], **({"epochs": params["epochs"]} if params["epochs"] else {})}
    model = build("cnn", spec["config"], overrides, seed=params["seed"])
    fit(model, train, progress=_progress_to(report), seed=params["seed"], dry_run=params["dry_run"])
    seconds = time.perf_counter() - start
    training = {"recipe": params["recipe"], "params": params, "data": train.describe(),
                "seconds": round(seconds, 1), "command": "DigitScan retrain (ExperimentRun)"}
    save_checkpoint(model, out, training=training)
    # Measured on the model as saved (half-precision weights), which is what workers will serve.
    metrics = evaluate(load_checkpoint(out).classifier, test)
    metrics["test_data"] = test.describe()
    save_checkpoint(model, out, metrics=metrics, training=training)
    report(progress=0.97, line=f"test accuracy {metrics['accuracy']:.2%}")
    baseline = evaluate(active.classifier, test)["accuracy"] if active is not None else None
    return Outcome(path=out, accuracy=metrics["accuracy"], baseline=baseline, metrics=metrics,
                   feedback_digits=extra, train_samples=len(train), seconds=seconds)


def _progress_to(report: Report) -> Callable[[dict], None]:
    """ml's progress events → at most one database write a second, plus one log line per epoch."""
    last = [0.0]

    def on_event(event: dict) -> None:
        if event.get("event") == "epoch":
            report(progress=0.05 + 0.9 * event["epoch"] / event["epochs"],
                   line=f"epoch {event['epoch']}/{event['epochs']}: loss {event['loss']:.4f}, "
                        f"train accuracy {event['accuracy']:.2%}")
        elif event.get("event") == "batch" and time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            done = (event["epoch"] - 1 + event["step"] / event["steps"]) / event["epochs"]
            report(progress=0.05 + 0.9 * done)

    return on_event
