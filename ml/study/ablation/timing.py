"""A quiet timing pass: every config's training step and test pass timed the same way, in rounds.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

from ml.data import Split
from ml.machine import machine
from ml.models.classifiers import build
from ml.models.config import TrainConfig
from ml.progress import Progress, quiet
from ml.study.requests import TimingPass
from ml.training.evaluate import evaluate
from ml.training.train import fit

from .grid import FULL, Overrides


def time_configs(configs: dict[str, Overrides], train: Split, test: Split, *,
                 timing: TimingPass = TimingPass(), on_event: Progress = quiet) -> dict[str, Any]:
    """Time every config's training step and test pass the same way, on a quiet machine.

    The training runs of a study take hours, and wall time per run picks up whatever else the
    machine did meanwhile. Here every config trains ``timing.batches`` batches of the thesis recipe (after
    one batch of warm-up) and predicts ``test``, for ``timing.rounds`` rounds, each in a rotated order;
    a config's time is its median over the rounds, and its ratio to the full network is the median
    of the per-round ratios, so slow drift of the machine affects all configs alike.

    >>> from ml.data import load_mnist
    >>> train, test = load_mnist()
    >>> timed = time_configs({"full": {}, "pool=none": {"pool": "none"}}, train.subset(600), test.subset(200),
    ...                      timing=TimingPass(rounds=1, batches=1))
    >>> configs = timed["configs"]
    >>> timed["reference"], configs["full"]["train_ratio"], configs["pool=none"]["train_ratio"] > 1
    ('full', 1.0, True)
    """
    rounds = timing.rounds
    keys = list(configs)
    batch = TrainConfig().batch_size
    sample = train.subset(min(timing.batches * batch, len(train)), seed=0)
    batches = math.ceil(len(sample) / batch)  # fewer than asked when the training split is small
    warm = train.subset(min(batch, len(train)), seed=1)
    times: dict[str, dict[str, list[float]]] = {k: {"train": [], "test": []} for k in keys}
    for r in range(rounds):
        for key in keys[r % len(keys):] + keys[: r % len(keys)]:
            model = build("cnn", configs[key], {"epochs": 1}, seed=r)
            fit(model, warm, seed=r)
            start = time.perf_counter()
            fit(model, sample, seed=r)
            times[key]["train"].append((time.perf_counter() - start) / batches)
            times[key]["test"].append(evaluate(model, test)["seconds"])
            on_event({"event": "timed", "round": r + 1, "rounds": rounds, "key": key,
                      "train_ms_per_batch": round(1e3 * times[key]["train"][-1], 1)})
    per_epoch = math.ceil(len(train) / batch)
    reference = FULL if FULL in times else keys[0]

    def ratio(key: str, kind: str) -> float:
        return round(statistics.median(a / b for a, b in zip(times[key][kind], times[reference][kind])), 3)

    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine(), "rounds": rounds,
        "batches": batches, "batch_size": batch, "batches_per_epoch": per_epoch,
        "test_samples": len(test), "reference": reference,
        "configs": {k: {"train_ms_per_batch": [round(1e3 * t, 2) for t in times[k]["train"]],
                        "train_seconds_per_epoch": round(statistics.median(times[k]["train"]) * per_epoch, 2),
                        "train_ratio": ratio(k, "train"),
                        "test_seconds": round(statistics.median(times[k]["test"]), 3),
                        "test_ratio": ratio(k, "test")} for k in keys},
    }
