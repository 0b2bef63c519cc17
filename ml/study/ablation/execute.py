"""Training the study's runs: one config with one seed (:func:`train_one`), the runs of a queue one after
another in this process, or ``jobs`` at a time in worker processes sharing the torch threads.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

import torch

from ml.data import Split, load_mnist
from ml.models.classifiers import build
from ml.models.size import count_flops, count_parameters
from ml.progress import Progress, quiet
from ml.study.requests import AblationRequest
from ml.training.evaluate import evaluate
from ml.training.train import fit

from .grid import Overrides
from .plan import Run
from .schedule import Queue

ProgressFactory = Callable[[str], Progress]
Record = Callable[[int, Run, dict[str, float]], None]  # record(done so far, run, its row)


def describe(overrides: Overrides) -> dict[str, Any]:
    """The size of one config, before any training: its full config, parameters and FLOPs per image.

    >>> sorted(describe({"blocks": 1}))
    ['config', 'flops', 'parameters', 'seeds']
    """
    model = build("cnn", overrides)
    return {"config": model.model_config, "parameters": count_parameters(model.module),
            "flops": count_flops(model.module), "seeds": {}}


def train_one(overrides: Overrides, seed: int, train: Split, test: Split, *, epochs: int,
              dry_run: bool = False, progress: Progress = quiet) -> dict[str, float]:
    """Train one config with the thesis recipe and one seed; its times and test accuracy (%).

    >>> from ml.data import load_mnist
    >>> train, test = load_mnist()
    >>> row = train_one({"pool": "avg"}, 0, train.subset(400), test.subset(200), epochs=1)
    >>> sorted(row), 0 <= row["accuracy"] <= 100
    (['accuracy', 'test_seconds', 'train_seconds', 'train_seconds_per_epoch'], True)
    """
    model = build("cnn", overrides, {"epochs": epochs}, seed=seed)
    start = time.perf_counter()
    fit(model, train, progress=progress, seed=seed, dry_run=dry_run)
    seconds = time.perf_counter() - start
    metrics = evaluate(model, test)
    done_epochs = 1 if dry_run else epochs  # a dry run is one epoch of two batches, whatever epochs says
    return {"train_seconds": round(seconds, 2), "train_seconds_per_epoch": round(seconds / done_epochs, 3),
            "test_seconds": metrics["seconds"], "accuracy": round(100 * metrics["accuracy"], 4)}


def study_splits(limit: int | None, seed0: int) -> tuple[Split, Split]:
    """The training split and the test split the study uses (a fifth of ``limit``, at least 200).

    >>> train, test = study_splits(1000, 0)
    >>> len(train), len(test)
    (60000, 200)
    """
    train_all, test = load_mnist()
    if limit:
        test = test.subset(max(limit // 5, 200), seed=seed0)
    return train_all, test


def run_serial(queue: Queue, request: AblationRequest, train_all: Split, test: Split, *,
               progress_factory: ProgressFactory | None, record: Record) -> None:
    """Train the queue's runs one after another in this process.

    >>> from ml.study.ablation.plan import plan_runs
    >>> from ml.study.ablation.schedule import Schedule
    >>> request = AblationRequest(studies=("layers",), epochs=1, seeds=1, limit=300)
    >>> queue = Queue(plan_runs(request), None, epochs=1, schedule=Schedule())
    >>> done = []
    >>> run_serial(queue, request, *study_splits(300, 0), progress_factory=None,
    ...            record=lambda n, run, row: done.append((n, run.key)))
    >>> done
    [(1, 'full'), (2, 'blocks=1')]
    """
    subsets: dict[int, Split] = {}
    done = 0
    while (run := queue.next()) is not None:
        done += 1
        # One training subset per seed, the same for every config, so configs differ only in config.
        if run.seed not in subsets:
            subsets[run.seed] = train_all.subset(request.limit, seed=run.seed)
        progress = progress_factory(run.name) if progress_factory else quiet
        record(done, run, train_one(run.overrides, run.seed, subsets[run.seed], test, epochs=request.epochs,
                                    dry_run=request.dry_run, progress=progress))


# A worker process's MNIST splits, loaded once per process (see _train_in_worker).
_WORKER_DATA: dict[tuple, tuple[Split, Split]] = {}


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


def _train_in_worker(run: Run, request: AblationRequest,
                     progress_factory: ProgressFactory | None) -> dict[str, float]:
    """``train_one`` in a worker process of :func:`run_parallel`, on the same splits as in-process."""
    if (request.limit, request.seed0) not in _WORKER_DATA:
        _WORKER_DATA[request.limit, request.seed0] = study_splits(request.limit, request.seed0)
    train_all, test = _WORKER_DATA[request.limit, request.seed0]
    train = train_all.subset(request.limit, seed=run.seed) if request.limit else train_all
    progress = progress_factory(run.name) if progress_factory else quiet
    return train_one(run.overrides, run.seed, train, test, epochs=request.epochs, dry_run=request.dry_run,
                     progress=progress)


def run_parallel(queue: Queue, request: AblationRequest, jobs: int, *,
                 progress_factory: ProgressFactory | None, record: Record) -> None:
    """Train the queue's runs ``jobs`` at a time in worker processes, each chosen when a worker frees up.

    A failed run stops the study: runs not started are dropped, finished ones are kept.

    >>> from ml.study.ablation.plan import plan_runs
    >>> from ml.study.ablation.schedule import Schedule
    >>> request = AblationRequest(studies=("layers",), epochs=1, seeds=1, limit=300)
    >>> queue = Queue(plan_runs(request), None, epochs=1, schedule=Schedule(jobs=2))
    >>> done = []
    >>> run_parallel(queue, request, 2, progress_factory=None,
    ...              record=lambda n, run, row: done.append(run.key))
    >>> sorted(done)
    ['blocks=1', 'full']
    """
    threads = max(1, torch.get_num_threads() // jobs)
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(threads,))
    done = 0
    try:
        running: dict[Any, Run] = {}

        def start() -> None:
            while len(running) < jobs and (run := queue.next()) is not None:
                running[pool.submit(_train_in_worker, run, request, progress_factory)] = run

        start()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                done += 1
                record(done, running.pop(future), future.result())
            start()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
