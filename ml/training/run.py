"""Train a model by a recipe and write its checkpoint with test metrics: the one path that
``python -m ml train`` and the site's retrain task both take.

build → fit → save → reload → evaluate the model *as saved* (half-precision weights, which is what a
reader gets) → save again with the metrics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ml.data import Split, load_mnist
from ml.machine import machine_line
from ml.models.checkpoint import load_checkpoint, save_checkpoint
from ml.models.classifiers import Classifier, build
from ml.progress import Progress, quiet

from .evaluate import evaluate
from .recipes import TrainRequest, recipe
from .train import fit


@dataclass
class Trained:
    """A checkpoint written by :func:`train_checkpoint`, and what went into it."""

    path: Path
    model: Classifier
    metrics: dict[str, Any]  # on ``test``, from the model as saved
    training: dict[str, Any]  # as stored in the checkpoint
    seconds: float  # fitting only


def training_splits(request: TrainRequest, extra: Split | None = None) -> tuple[Split, Split]:
    """MNIST's splits as ``request`` asks for them (random subsets by its seed), with ``extra`` samples
    (corrected digits from the site's users) added to the training split.

    >>> train, test = training_splits(TrainRequest(limit=1000, test_limit=200))
    >>> len(train), len(test)
    (1000, 200)
    """
    train, test = load_mnist()
    train = train.subset(request.limit, seed=request.seed)
    test = test.subset(request.test_samples, seed=request.seed)
    if extra is not None and len(extra):
        train = Split(torch.cat([train.images, extra.images]), torch.cat([train.labels, extra.labels]),
                      f"{train.source} + {len(extra)} {extra.source}")
    return train, test


def train_checkpoint(request: TrainRequest, out: str | Path, train: Split, test: Split, *,
                     progress: Progress = quiet, command: str = "",
                     notes: dict[str, Any] | None = None) -> Trained:
    """Train ``request.family`` by ``request.recipe`` on ``train``, write it to ``out`` with its
    metrics on ``test``; ``notes`` are added to the training description stored in the file.

    >>> import tempfile
    >>> from pathlib import Path
    >>> request = TrainRequest(limit=300, dry_run=True)
    >>> train, test = training_splits(request)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     trained = train_checkpoint(request, Path(tmp) / "cnn.pt", train, test)
    ...     trained.path.name, trained.metrics["samples"], trained.training["recipe"]
    ('cnn.pt', 500, 'served')
    """
    spec = recipe(request.recipe, request.family)
    overrides = {**spec["train"], **({"epochs": request.epochs} if request.epochs else {})}
    model = build(request.family, spec["config"], overrides, seed=request.seed)
    start = time.perf_counter()
    fit(model, train, progress=progress, seed=request.seed, dry_run=request.dry_run)
    seconds = time.perf_counter() - start
    training = {
        "recipe": request.recipe, "seed": request.seed, "seconds": round(seconds, 1),
        "dry_run": request.dry_run, "command": command, "data": train.describe(), "machine": machine_line(),
        "train_config": vars(model.train_config) if hasattr(model, "train_config") else {},
        **(notes or {}),
    }
    out = Path(out)
    save_checkpoint(model, out, training=training)
    metrics = evaluate(load_checkpoint(out).classifier, test)
    metrics["test_data"] = test.describe()
    save_checkpoint(model, out, training=training, metrics=metrics)
    return Trained(path=out, model=model, metrics=metrics, training=training, seconds=seconds)
