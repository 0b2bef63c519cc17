"""The study as jobs: the six-family benchmark and the CNN ablations, with progress for the run's row.

Each function takes a run's checked params (``web.registry.params``), writes ml's plots and tables into
``out`` and returns ml's results; the Celery tasks in ``worker.tasks`` store both.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ml.train import Progress

Report = Callable[..., None]  # report(progress=0.3, line="cnn: epoch 2/14 ...")


def benchmark(*, params: dict, out, report: Report, command: str = "") -> dict:
    """ml.experiments.benchmark for ``params["families"]``; progress moves family by family."""
    from ml.experiments import benchmark as run

    families = params["families"]
    share = 1 / len(families)

    def progress_factory(family: str) -> Progress:
        index = families.index(family)
        report(progress=index * share, line=f"{family}: training ({index + 1}/{len(families)})")
        return _within(report, start=index * share, share=share, label=family)

    results = run(families, out=out, epochs=params["epochs"], seed=params["seed"], limit=params["limit"],
                  dry_run=params["dry_run"], progress_factory=progress_factory, command=command)
    report(line=f"trained on {results['train_samples']} images, tested on {results['test_samples']}")
    for row in results["rows"]:
        report(line=f"{row['family']}: test accuracy {row['accuracy']:.2f}% (thesis "
                    f"{row['thesis_accuracy']:.2f}%), train {row['train_seconds']:.1f} s, "
                    f"test {row['test_seconds']:.2f} s")
    return results


def ablation(*, params: dict, out, report: Report, command: str = "") -> dict:
    """ml.ablation.run_ablation for ``params["studies"]``; progress moves model by model, and within each
    model batch by batch (a full-MNIST model trains for many minutes)."""
    from ml.ablation import run_ablation

    total, started = [0], [0]

    def on_event(event: dict) -> None:
        kind = event.get("event")
        if kind == "start":
            total[0] = event.get("total") or 0
            report(line=f"{total[0]} models to train ({event.get('reused', 0)} results reused)")
        elif kind == "run" and event.get("total"):
            report(progress=event["done"] / event["total"],
                   line=f"{event['done']}/{event['total']}: {event.get('study')} {event.get('variant')} seed "
                        f"{event.get('seed')}: test accuracy {event.get('accuracy', float('nan')):.2f}%, "
                        f"train {event.get('train_seconds', float('nan')):.1f} s")

    def progress_factory(label: str) -> Progress:
        started[0] += 1
        share = 1 / max(total[0], started[0])
        return _within(report, start=(started[0] - 1) * share, share=share, label=label)

    return run_ablation(params["studies"], epochs=params["epochs"], seeds=params["seeds"], out=out,
                        limit=params["limit"], seed0=params["seed0"], dry_run=params["dry_run"],
                        command=command, on_event=on_event, progress_factory=progress_factory)


def _within(report: Report, *, start: float, share: float, label: str) -> Progress:
    """ml's training events of one family → its slice of the bar (at most a write a second) and a log
    line per epoch."""
    last = [0.0]

    def on_event(event: dict) -> None:
        kind = event.get("event")
        if kind == "epoch":
            report(progress=start + share * event["epoch"] / event["epochs"],
                   line=f"{label}: epoch {event['epoch']}/{event['epochs']}, loss {event['loss']:.4f}")
        elif kind == "batch" and time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            done = (event["epoch"] - 1 + event["step"] / event["steps"]) / event["epochs"]
            report(progress=start + share * done)
        elif kind in ("start", "done"):
            verb = "fitting" if kind == "start" else "fitted"
            report(line=f"{label}: {verb} on {event['samples']} samples")

    return on_event
