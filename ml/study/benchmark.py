"""The study behind the product: six classifier families compared on MNIST.

``benchmark`` trains and tests each family on the full MNIST split and writes ``results.json``, a
Markdown table in the layout of the thesis' Table 3.3 with the thesis' figures beside ours, and a bar
chart (``ml.study.benchmark_report``). Each family is timed on its own: train time is ``fit`` wall
time, test time is predicting the 10,000 test images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml.data import Split, load_mnist
from ml.machine import machine
from ml.models.classifiers import build
from ml.models.config import FAMILIES
from ml.models.size import count_parameters
from ml.progress import Progress, quiet
from ml.training.evaluate import evaluate
from ml.training.train import fit

from .benchmark_report import write_benchmark
from .requests import BenchmarkRequest
from .thesis import FAMILY_NAMES, THESIS_ACCURACY, TOLERANCE


def run_family(family: str, train: Split, test: Split, *, epochs: int | None = None, seed: int = 0,
               dry_run: bool = False, progress: Progress = quiet,
               per_epoch: bool = False) -> dict[str, Any]:
    """Train and test one family; returns its row of the comparison.

    ``per_epoch`` also records test accuracy after every epoch of a torch family (a diagnosis: is a
    reported figure the last epoch's or the best one's?). Its evaluation time is excluded from the
    train time.

    >>> train, test = load_mnist()
    >>> row = run_family("knn", train.subset(500), test.subset(200))
    >>> row["name"], row["accuracy"] > 80, row["thesis_accuracy"]
    ('k-nearest neighbours (k=3)', True, 97.05)
    """
    overrides = {"epochs": epochs} if epochs else {}
    model = build(family, train=overrides, seed=seed)
    curve: list[float] = []
    spent = [0.0]

    def track(epoch: int, current: Any) -> None:
        t = time.perf_counter()
        curve.append(round(100 * evaluate(current, test)["accuracy"], 2))
        spent[0] += time.perf_counter() - t

    start = time.perf_counter()
    fit(model, train, progress=progress, seed=seed, dry_run=dry_run,
        epoch_end=track if per_epoch else None)
    train_seconds = time.perf_counter() - start - spent[0]
    metrics = evaluate(model, test)
    row = {
        "family": family, "name": FAMILY_NAMES[family],
        "train_seconds": round(train_seconds, 2), "test_seconds": metrics["seconds"],
        "accuracy": round(100 * metrics["accuracy"], 2),
        "thesis_accuracy": THESIS_ACCURACY[family],
        "per_class_accuracy": metrics["per_class_accuracy"],
        "confusion_matrix": metrics["confusion_matrix"],
        "config": model.model_config,
    }
    if hasattr(model, "train_config"):
        row["train_config"] = vars(model.train_config)
        row["parameters"] = count_parameters(model.module)
    if curve:
        row["test_accuracy_per_epoch"] = curve
    row["meets_bar"] = row["accuracy"] >= THESIS_ACCURACY[family] - TOLERANCE
    return row


def benchmark(request: BenchmarkRequest = BenchmarkRequest(), *, out: str | Path | None = None,
              progress_factory: Callable[[str], Progress] | None = None, command: str = "") -> dict:
    """Run the comparison and (with ``out``) write results.json, results.md and benchmark.png.

    >>> results = benchmark(BenchmarkRequest(families=("logreg", "knn"), dry_run=True))
    >>> [row["family"] for row in results["rows"]], results["train_samples"], results["test_samples"]
    (['logreg', 'knn'], 1000, 200)
    """
    unknown = set(request.families) - set(FAMILIES)
    assert not unknown, f"unknown families {sorted(unknown)}; choose from {', '.join(FAMILIES)}"
    train, test = load_mnist()
    seed = request.seed
    limit = 1000 if request.dry_run and request.limit is None else request.limit
    train, test = train.subset(limit, seed=seed), test.subset(limit and max(limit // 5, 200), seed=seed)
    rows = []
    for family in request.families:
        progress = progress_factory(family) if progress_factory else quiet
        rows.append(run_family(family, train, test, epochs=request.epochs, seed=seed, dry_run=request.dry_run,
                               progress=progress, per_epoch=request.per_epoch))
    results = {
        "kind": "benchmark", "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": command,
        "machine": machine(), "seed": seed, "dry_run": request.dry_run,
        "train_samples": len(train), "test_samples": len(test), "rows": rows,
    }
    if out:
        write_benchmark(results, Path(out))
    return results
