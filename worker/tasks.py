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

import cv2
import numpy as np
from celery import signals
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from ml.reading.annotate import annotate
from ml.reading.decode import ImageError, decode_image
from ml.reading.reader import read
from web.celery import RECOGNIZE, RUN_ABLATION, RUN_BENCHMARK, TRAIN_MODEL, app
from web.errors import ApplicationError
from web.registry import services as registry
from web.registry.models import ExperimentRun
from web.registry.params import run_params
from web.uploads import services
from web.uploads.selectors import upload_ids_never_started
from worker import experiments, model_cache, training

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 320  # pixels: the history page shows them at about half that, sharp on dense screens

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


class RecognizeTask(app.Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Record a failure the task body could not catch: the hard time limit killed its process.

        Celery calls this in the worker's main process; the message is acknowledged, so without this
        the upload would stay "running" until the reaper found it.
        """
        upload_id = args[0] if args else kwargs.get("upload_id")
        if upload_id is None:
            return
        if isinstance(exc, TimeLimitExceeded):
            services.upload_fail(upload_id=upload_id, code="timeout",
                                 message=f"reading took longer than {exc.args[0]:g} s and was stopped")
        else:
            services.upload_fail(upload_id=upload_id, code="internal",
                                 message=f"reading failed ({type(exc).__name__}: {exc})")


@app.task(name=RECOGNIZE, base=RecognizeTask, bind=True, max_retries=2, default_retry_delay=2)
def recognize(self, upload_id: str) -> str:
    """Read the digits of upload ``upload_id``; safe to run any number of times for the same id."""
    upload = services.upload_start(upload_id=upload_id)
    if upload is None:
        return "skipped"  # gone, finished by another delivery, or out of attempts (already marked failed)
    try:
        _read_and_record(upload)
    except SoftTimeLimitExceeded:
        return _fail(upload_id, "timeout", f"reading took longer than {_limits(self.request)[1]:g} s")
    except FileNotFoundError:
        return _fail(upload_id, "missing_image", "the uploaded image is no longer in storage")
    except ImageError as exc:
        return _fail(upload_id, "corrupt_image", f"the image cannot be read: {exc}")
    except Exception as exc:  # noqa: BLE001 - anything else may be transient (storage, database)
        if self.request.retries < self.max_retries:
            log.warning("upload %s: %s; retrying", upload_id, exc)
            services.upload_release(upload_id=upload_id)
            raise self.retry(exc=exc) from exc
        log.exception("upload %s failed for good", upload_id)
        return _fail(upload_id, "internal", f"reading failed ({type(exc).__name__}: {exc})")
    return "done"


def _limits(request) -> tuple[float, float]:
    """(hard, soft) time limits of this delivery: those in the message (stamped by a sender that has
    the task registered: beat, a worker), else this worker's settings (the site sends by name)."""
    hard, soft = getattr(request, "timelimit", None) or (None, None)
    return (hard or settings.CELERY_TASK_TIME_LIMIT, soft or settings.CELERY_TASK_SOFT_TIME_LIMIT)


def _fail(upload_id: str, code: str, message: str) -> str:
    services.upload_fail(upload_id=upload_id, code=code, message=message)
    return "failed"


def _read_and_record(upload) -> None:
    with default_storage.open(upload.image.name, "rb") as f:
        data = f.read()
    image = decode_image(data, max_pixels=settings.DIGITSCAN_MAX_PIXELS)
    current = model_cache.active()
    reading = read(image, model=current.model)
    annotated = annotate(image, reading)
    services.upload_finish(upload_id=upload.id, reading=reading.to_dict(), timings=reading.timings_ms,
                           annotated_png=encode(annotated, ".png"),
                           thumbnail_jpeg=encode(thumbnail(annotated), ".jpg"), model_version=current.version)


def thumbnail(image: np.ndarray, *, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """``image`` shrunk to fit ``side`` × ``side`` (never enlarged)."""
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def encode(image: np.ndarray, extension: str) -> bytes:
    ok, data = cv2.imencode(extension, image, [cv2.IMWRITE_JPEG_QUALITY, 80] if extension == ".jpg" else [])
    if not ok:
        raise RuntimeError(f"could not encode the annotated image as {extension}")
    return data.tobytes()


@app.task(name="worker.tasks.reap_stuck_uploads")
def reap_stuck_uploads() -> dict[str, int]:
    """Fail uploads running longer than ``DIGITSCAN_STUCK_AFTER_S`` (their worker is gone), and queue
    again those never started in that time (their message was lost, e.g. the broker was down)."""
    older_than = dt.timedelta(seconds=settings.DIGITSCAN_STUCK_AFTER_S)
    reaped = services.upload_reap_stuck(older_than=older_than)
    lost = upload_ids_never_started(queued_before=timezone.now() - older_than)
    for upload_id in lost:
        # A duplicate is harmless if the first message was only slow: recognize is idempotent.
        recognize.delay(str(upload_id))
    if reaped or lost:
        log.warning("reaped %d stuck uploads, queued %d again", reaped, len(lost))
    return {"failed": reaped, "requeued": len(lost)}


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
    except Exception as exc:  # noqa: BLE001 - recorded on the run for staff to read
        log.exception("experiment run %s failed", run_id)
        registry.experiment_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
    return "failed"


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
    promoted = registry.model_version_promote_if_better(version=version, accuracy=outcome.accuracy,
                                                        baseline=outcome.baseline)
    report(line=f"registered {version.name}: accuracy {outcome.accuracy:.2%} vs active "
                f"{outcome.baseline if outcome.baseline is None else f'{outcome.baseline:.2%}'}; "
                f"{'now active' if promoted else 'not activated (worse than the active version)'}")
    registry.experiment_run_finish(run_id=run.id, version=version, results={
        "accuracy": outcome.accuracy, "baseline_accuracy": outcome.baseline, "promoted": promoted,
        "feedback_digits": outcome.feedback_digits, "train_samples": outcome.train_samples,
        "seconds": round(outcome.seconds, 1), "metrics": outcome.metrics,
    })
    return "promoted" if promoted else "kept"


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
