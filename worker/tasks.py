"""Celery tasks. Each takes an id, loads its row again, calls ml, and records the outcome via web's services.

Tasks never receive model objects (DESIGN.md): a message can outlive the row it names, and the row
read at run time is the truth.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path

import cv2
import numpy as np
from celery import signals
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

import ml
from web.registry import services as registry
from web.uploads import services
from web.uploads.selectors import upload_ids_never_started
from worker import model_cache, training
from worker.celery import app

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


@app.task(name="worker.tasks.recognize", base=RecognizeTask, bind=True, max_retries=2, default_retry_delay=2)
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
    except ml.ImageError as exc:
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
    """(hard, soft) time limits of this delivery: those in the message (stamped where it was sent,
    i.e. by the web's settings), else this worker's settings."""
    hard, soft = getattr(request, "timelimit", None) or (None, None)
    return (hard or settings.CELERY_TASK_TIME_LIMIT, soft or settings.CELERY_TASK_SOFT_TIME_LIMIT)


def _fail(upload_id: str, code: str, message: str) -> str:
    services.upload_fail(upload_id=upload_id, code=code, message=message)
    return "failed"


def _read_and_record(upload) -> None:
    with default_storage.open(upload.image.name, "rb") as f:
        data = f.read()
    image = ml.decode_image(data, max_pixels=settings.DIGITSCAN_MAX_PIXELS)
    current = model_cache.active()
    reading = ml.read(image, model=current.model)
    annotated = ml.annotate(image, reading)
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


@app.task(name="worker.tasks.train_model", bind=True, max_retries=0,
          soft_time_limit=settings.DIGITSCAN_TRAIN_TIME_LIMIT_S,
          time_limit=settings.DIGITSCAN_TRAIN_TIME_LIMIT_S + 60)
def train_model(self, run_id: int) -> str:
    """Run retrain ExperimentRun ``run_id``: train, register the version, activate it if not worse."""
    run = registry.experiment_run_start(run_id=run_id)
    if run is None:
        return "skipped"
    try:
        outcome = _train_and_register(run)
    except SoftTimeLimitExceeded:
        limit = settings.DIGITSCAN_TRAIN_TIME_LIMIT_S
        registry.experiment_run_fail(run_id=run_id, error=f"stopped after the time limit of {limit} s")
        return "failed"
    except Exception as exc:  # noqa: BLE001 - recorded on the run for staff to read
        log.exception("experiment run %s failed", run_id)
        registry.experiment_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}")
        return "failed"
    return outcome


def _train_and_register(run) -> str:
    def report(progress: float | None = None, line: str = "") -> None:
        registry.experiment_run_report(run_id=run.id, progress=progress, line=line)

    active = model_cache.active()
    with tempfile.TemporaryDirectory() as tmp:
        outcome = training.retrain(params=run.params, active=active.model, report=report,
                                   out=Path(tmp) / f"cnn-run{run.id}.pt")
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
