"""Celery tasks. Each takes an id, loads its row again, calls ml, and records the outcome via web's services.

Tasks never receive model objects (DESIGN.md): a message can outlive the row it names, and the row
read at run time is the truth.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from celery import signals
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings

from ml.data import DataNotFoundError
from web.celery import RUN_ABLATION, RUN_BENCHMARK, TRAIN_MODEL, app
from web.errors import ApplicationError
from web.registry import services as registry
from web.registry.models import ExperimentRun
from web.registry.params import run_params
from web.registry.promotion import Score
from worker import experiments, model_cache, training

# Reading uploads lives in its own module; registered with the app from here, like every task.
from worker.recognition import reap_stuck_uploads, recognize  # noqa: F401

log = logging.getLogger(__name__)

# The WorkController of this worker, remembered in the parent so that each forked child knows how many
# siblings it has (for torch threads) — the signal in the child does not say.
_worker = None


@signals.worker_init.connect
def _remember_worker(sender=None, **_) -> None:
    global _worker
    _worker = sender


@signals.worker_process_init.connect
def _load_model_after_fork(**_) -> None:
    # After the fork, not before: torch's thread pools and open files must not be shared across processes.
    concurrency = getattr(_worker, "concurrency", None)
    model_cache.warm_up(concurrency=concurrency if isinstance(concurrency, int) else 1)


@app.task(name="worker.tasks.reap_stuck_runs")
def reap_stuck_runs() -> dict[str, int]:
    """Fail benchmark and ablation runs whose worker has not reported for ``DIGITSCAN_RUN_STALE_AFTER_S``.

    They are acknowledged on receipt (see ``_training_job``), so nothing else would ever end a run whose
    worker died: it would stay "running" and block every later run of its kind.
    """
    reaped = registry.experiment_run_reap_stale(
        older_than=dt.timedelta(seconds=settings.DIGITSCAN_RUN_STALE_AFTER_S))
    if reaped:
        log.warning("failed %d experiment runs whose worker stopped reporting: %s", len(reaped),
                    ", ".join(f"#{run_id}" for run_id in reaped))
    return {"failed": len(reaped)}


class TrainingJob(app.Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Record the hard time limit, which kills the pool process before the task body can say so.

        Without this the run would stay "running", and no other run of its kind could start.
        """
        run_id = args[0] if args else kwargs.get("run_id")
        if run_id is not None and isinstance(exc, TimeLimitExceeded):
            registry.experiment_run_fail(run_id=run_id, error=f"killed after the hard time limit of "
                                                              f"{exc.args[0]:g} s")


# Which setting limits each kind of run: a retrain takes minutes to an hour, a study up to half a day.
LIMIT_SETTINGS = {ExperimentRun.Kind.TRAIN: "DIGITSCAN_TRAIN_TIME_LIMIT_S",
                  ExperimentRun.Kind.BENCHMARK: "DIGITSCAN_STUDY_TIME_LIMIT_S",
                  ExperimentRun.Kind.ABLATE: "DIGITSCAN_STUDY_TIME_LIMIT_S"}


def _training_job(name: str, kind: str):
    """The decorator of every job on the training queue: no retries, the time limits of ``kind``.

    A retrain keeps the app's acks_late (acknowledged after it ran, so that a dead worker's retrain is
    delivered again): its limit stays under CELERY_VISIBILITY_TIMEOUT, and running it twice only registers
    a second version. A benchmark or ablation runs for hours, longer than Redis' visibility timeout, after
    which Redis would hand a still-unacknowledged one to another worker, and a second delivery would train
    the whole study again beside the first. So studies are acknowledged on receipt and never requeued
    when their process dies: a dead worker's study is failed by reap_stuck_runs (by its heartbeat) instead,
    and staff start it again.
    """
    limit = getattr(settings, LIMIT_SETTINGS[kind])
    study = kind in ExperimentRun.ONE_AT_A_TIME
    delivery = {"acks_late": False, "reject_on_worker_lost": False} if study else {}
    return app.task(name=name, base=TrainingJob, bind=True, max_retries=0, soft_time_limit=limit,
                    time_limit=limit + 60, **delivery)


def _run_job(run_id: int, kind: str, body: Callable[[ExperimentRun], str]) -> str:
    """Start ExperimentRun ``run_id``, run ``body`` on it, and record why if it fails."""
    run = registry.experiment_run_start(run_id=run_id)
    if run is None:
        return "skipped"
    try:
        if run.kind != kind:
            raise ApplicationError("wrong_kind", f"run #{run_id} is a {run.kind} run; this task runs "
                                                 f"{kind} runs")
        return body(run)
    except SoftTimeLimitExceeded:
        name = LIMIT_SETTINGS[kind]
        registry.experiment_run_fail(run_id=run_id, error=f"stopped after the time limit of "
                                                          f"{getattr(settings, name)} s ({name})")
    except ApplicationError as exc:  # e.g. parameters that are no longer valid: the message says which
        registry.experiment_run_fail(run_id=run_id, error=exc.message)
    except DataNotFoundError:
        # The places tried (this machine's folders, the download's URL and error) go to the worker's log
        # only: staff read a sentence on the run's page (web.registry.log_words translates it).
        log.exception("experiment run %s failed: MNIST not found", run_id)
        registry.experiment_run_fail(run_id=run_id, error=NO_MNIST)
    except Exception as exc:  # noqa: BLE001 - the details to the log, a sentence to the run for staff
        log.exception("experiment run %s failed", run_id)
        registry.experiment_run_fail(run_id=run_id, error=UNEXPECTED % {"type": type(exc).__name__})
    return "failed"


# What a run that failed says on its page (English; shown translated). No paths or addresses: a person
# reads these; the traceback with them is in the training worker's log.
NO_MNIST = ("MNIST was not found on the training worker: put its four files in a folder, set MNIST_DIR to "
            "it and restart the worker (where it looked is in the worker's log)")
UNEXPECTED = "the run stopped on an unexpected error (%(type)s); the details are in the training worker's log"


@_training_job(TRAIN_MODEL, ExperimentRun.Kind.TRAIN)
def train_model(self, run_id: int) -> str:
    """Run retrain ExperimentRun ``run_id``: train, register the version, activate it if not worse."""
    return _run_job(run_id, ExperimentRun.Kind.TRAIN, _train_and_register)


def _train_and_register(run) -> str:
    def report(progress: float | None = None, line: str = "") -> None:
        registry.experiment_run_report(run_id=run.id, progress=progress, line=line)

    active = model_cache.active()
    with tempfile.TemporaryDirectory() as tmp:
        outcome = training.retrain(params=run.params, active=active.model, report=report,
                                   out=Path(tmp) / f"cnn-run{run.id}.pt", run_id=run.id)
        version = registry.model_version_register(path=outcome.path, name=f"cnn-run{run.id}")
    scores = {k: Score(correct=v["correct"], samples=v["samples"]) for k, v in outcome.scores.items()}
    decision = registry.model_version_promote_if_better(
        version=version, mnist_new=scores["mnist_new"], mnist_active=scores.get("mnist_active"),
        held_new=scores["held_new"], held_active=scores.get("held_active"))
    report(line=f"registered {version.name}. {decision.reason()}")
    registry.experiment_run_finish(run_id=run.id, version=version, results={
        "accuracy": outcome.accuracy, "baseline_accuracy": outcome.baseline, "promoted": decision.promoted,
        "decision": decision.as_dict(), "active_version": active.version.name, "scores": outcome.scores,
        "data": outcome.data, "feedback_digits": outcome.feedback_digits,
        "feedback_not_a_digit": outcome.feedback_not_digits, "train_samples": outcome.train_samples,
        "test_samples": outcome.data.get("mnist_test"),
        "epochs": _epochs(run),
        "seconds": round(outcome.seconds, 1), "fit_seconds": round(outcome.fit_seconds, 1),
        "metrics": outcome.metrics,
    })
    return "promoted" if decision.promoted else "kept"


def _epochs(run: ExperimentRun) -> int:
    """The epochs a retrain fitted: one on a dry run, else its own or its recipe's."""
    from ml.training.recipes import recipe_train_config

    params = run.params
    return 1 if params["dry_run"] else params["epochs"] or recipe_train_config(params["recipe"]).epochs


@app.task(name="worker.tasks.retrain_periodically")
def retrain_periodically(**params) -> int:
    """What the (disabled by default) beat schedule runs: queue one retrain with ``params``; its id."""
    return registry.experiment_run_create(params=params).id


@_training_job(RUN_BENCHMARK, ExperimentRun.Kind.BENCHMARK)
def run_benchmark(self, run_id: int) -> str:
    """Run benchmark ExperimentRun ``run_id``: the six-family comparison; table and plot to storage."""
    return _run_job(run_id, ExperimentRun.Kind.BENCHMARK, lambda run: _study(run, experiments.benchmark))


@_training_job(RUN_ABLATION, ExperimentRun.Kind.ABLATE)
def run_ablation(self, run_id: int) -> str:
    """Run ablation ExperimentRun ``run_id``: the CNN ablation studies; tables and plots to storage."""
    return _run_job(run_id, ExperimentRun.Kind.ABLATE, lambda run: _study(run, experiments.ablation))


def _study(run: ExperimentRun, job: Callable[..., dict]) -> str:
    def report(progress: float | None = None, line: str = "") -> None:
        registry.experiment_run_report(run_id=run.id, progress=progress, line=line)

    # The row's params again through the checks: a row written by hand or by an older version says why
    # it cannot run, instead of failing somewhere inside ml.
    params = run_params(run.kind, run.params)
    with tempfile.TemporaryDirectory() as tmp:
        results = job(params=params, out=Path(tmp), report=report,
                      command=f"DigitScan {run.kind} (ExperimentRun #{run.id}, params {json.dumps(params)})")
        artifacts = registry.experiment_run_store_files(run_id=run.id, folder=Path(tmp))
    report(line=f"stored {len(artifacts)} files: {', '.join(Path(a).name for a in artifacts)}")
    registry.experiment_run_finish(run_id=run.id, results=results, artifacts=artifacts)
    return "done"


def _open_periodically(kind: str, params: dict) -> int | None:
    """Queue one run of ``kind`` for a beat schedule; None (logged) while one is queued or running."""
    try:
        return registry.experiment_run_create(kind=kind, params=params).id
    except ApplicationError as exc:
        if exc.code != "busy":
            raise
        log.warning("scheduled %s skipped: %s", kind, exc.message)
        return None


@app.task(name="worker.tasks.benchmark_periodically")
def benchmark_periodically(**params) -> int | None:
    """What the weekly benchmark schedule (disabled by default) runs: queue one benchmark; its id."""
    return _open_periodically(ExperimentRun.Kind.BENCHMARK, params)


@app.task(name="worker.tasks.ablate_periodically")
def ablate_periodically(**params) -> int | None:
    """What the monthly ablation schedule (disabled by default) runs: queue one ablation; its id."""
    return _open_periodically(ExperimentRun.Kind.ABLATE, params)
