"""The study as jobs: the six-family benchmark and the CNN ablations, with progress for the run's row.

Each function takes a run's checked params (``web.registry.params``), writes ml's plots and tables into
``out`` and returns ml's results; the Celery tasks in ``worker.tasks`` store both.
"""

from __future__ import annotations

from ml.progress import Progress, Report, to_report
from ml.study.ablation.run import run_ablation
from ml.study.benchmark import benchmark as run_benchmark
from ml.study.requests import AblationRequest, BenchmarkRequest


def benchmark(*, params: dict, out, report: Report, command: str = "") -> dict:
    """ml.study.benchmark for ``params["families"]``; progress moves family by family."""
    request = BenchmarkRequest(families=tuple(params["families"]), epochs=params["epochs"],
                               limit=params["limit"], seed=params["seed"], dry_run=params["dry_run"])
    share = 1 / len(request.families)

    def progress_factory(family: str) -> Progress:
        index = request.families.index(family)
        report(progress=index * share, line=f"{family}: training ({index + 1}/{len(request.families)})")
        return to_report(report, start=index * share, share=share, label=family)

    results = run_benchmark(request, out=out, progress_factory=progress_factory, command=command)
    report(line=f"trained on {results['train_samples']} images, tested on {results['test_samples']}")
    for row in results["rows"]:
        report(line=f"{row['family']}: test accuracy {row['accuracy']:.2f}% (thesis "
                    f"{row['thesis_accuracy']:.2f}%), train {row['train_seconds']:.1f} s, "
                    f"test {row['test_seconds']:.2f} s")
    return results


def ablation(*, params: dict, out, report: Report, command: str = "") -> dict:
    """ml.study.ablation.run for ``params["studies"]``; progress moves model by model, and within each
    model batch by batch (a full-MNIST model trains for many minutes)."""
    request = AblationRequest(studies=tuple(params["studies"]), epochs=params["epochs"],
                              seeds=params["seeds"], limit=params["limit"], seed0=params["seed0"],
                              dry_run=params["dry_run"])
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
        return to_report(report, start=(started[0] - 1) * share, share=share, label=label)

    return run_ablation(request, out, command=command, on_event=on_event, progress_factory=progress_factory)
