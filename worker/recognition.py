"""The recognize task and the upload sweeper's task: one upload read per delivery, whatever faults happen.

A delivery claims the upload (``upload_start``), beats its heartbeat while it reads, stores the files and
records the reading. A database error anywhere in that (refused, reset, shut down) is an outage to wait
out: the task retries itself with backoff for ``DIGITSCAN_DB_RETRY_FOR_S``, carrying its claim (so that
the retry counts no attempt) and, once read, the outcome (so that the image is not read twice).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections
from kombu.exceptions import OperationalError as BrokerError

from ml.reading.annotate import annotate
from ml.reading.decode import ImageError, decode_image
from ml.reading.reader import TooDenseError, read
from web.celery import RECOGNIZE, app
from web.uploads import delivery, services
from web.uploads.services import DATABASE_ERRORS
from worker import model_cache
from worker.images import encode, screen_jpeg, thumbnail

log = logging.getLogger(__name__)

STORAGE_RETRIES = 2  # other errors (storage) are retried this often, each an attempt, then fail `internal`
# Faults the sweeper recovers from: the upload must not be failed for them.
OUTAGES = (*DATABASE_ERRORS, BrokerError, ConnectionError)


class RecognizeTask(app.Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Record a failure the task body could not catch: the hard time limit killed its process.

        Celery calls this in the worker's main process; the message is acknowledged, so without this
        the upload would stay "running" until the sweeper gave it to another delivery.
        """
        upload_id = args[0] if args else kwargs.get("upload_id")
        if upload_id is None or isinstance(exc, OUTAGES):
            return  # an outage outlived the retries: the sweeper sends the upload again later
        if isinstance(exc, TimeLimitExceeded):
            code, message = "timeout", f"reading took longer than {exc.args[0]:g} s and was stopped"
        else:
            code, message = "internal", f"reading failed ({type(exc).__name__}: {exc})"
        try:
            services.upload_fail(upload_id=upload_id, code=code, message=message)
        except DATABASE_ERRORS:
            log.warning("upload %s: could not record %s (database down); the sweeper retries it", upload_id,
                        code)


@dataclass
class Delivery:
    """What one delivery knows, and what its retry after a database error must carry on."""

    upload_id: str
    claim: str = ""  # the claim this delivery holds on the row ("host:pid:token")
    outcome: dict | None = None  # {"finish": upload_record's arguments} or {"fail": [code, message]}
    db_since: float | None = None  # when the database first failed this delivery (time.time())
    errors: int = 0  # other errors retried so far

    def as_kwargs(self) -> dict:
        return {"resume": {"claim": self.claim, "outcome": self.outcome, "db_since": self.db_since,
                           "errors": self.errors}}


@app.task(name=RECOGNIZE, base=RecognizeTask, bind=True, max_retries=None)
def recognize(self, upload_id: str, resume: dict | None = None) -> str:
    """Read the digits of upload ``upload_id``; safe to run any number of times for the same id.

    ``resume`` is for the task's own retries (:class:`Delivery`); senders give only the id.
    """
    job = Delivery(upload_id, **(resume or {}))
    try:
        return _deliver(self, job)
    except DATABASE_ERRORS as exc:
        job.db_since = job.db_since or time.time()
        waited = time.time() - job.db_since
        if waited >= settings.DIGITSCAN_DB_RETRY_FOR_S:
            log.error("upload %s: no database for %.0f s; left to the sweeper", upload_id, waited)
            raise
        countdown = min(2 ** self.request.retries, 8)
        log.warning("upload %s: database unreachable (%s: %s); retrying in %d s", upload_id,
                    type(exc).__name__, str(exc).strip()[:200], countdown)
        raise self.retry(args=[upload_id], kwargs=job.as_kwargs(), countdown=countdown) from exc


def _deliver(task, job: Delivery) -> str:
    if job.outcome is None:
        upload = services.upload_start(upload_id=job.upload_id, resume=job.claim)
        if upload is None:
            return "skipped"  # gone, finished, being read by a live process, or out of attempts (failed)
        job.claim, job.db_since = upload.claimed_by, None
        try:
            with heartbeat(upload.id, upload.claimed_by):
                job.outcome = _outcome(task, upload)
        except DATABASE_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - anything else may be transient (storage)
            if job.errors >= STORAGE_RETRIES:
                log.exception("upload %s failed for good", job.upload_id)
                job.outcome = {"fail": ["internal", f"reading failed ({type(exc).__name__}: {exc})"]}
            else:
                log.warning("upload %s: %s; retrying", job.upload_id, exc)
                services.upload_release(upload_id=job.upload_id, retry_in=2)
                retry = Delivery(job.upload_id, errors=job.errors + 1)  # a new claim: counts an attempt
                raise task.retry(args=[job.upload_id], kwargs=retry.as_kwargs(), countdown=2) from exc
    if "fail" in job.outcome:
        code, message = job.outcome["fail"]
        failed = services.upload_fail(upload_id=job.upload_id, code=code, message=message)
        return "failed" if failed else "skipped"
    return "done" if services.upload_record(upload_id=job.upload_id, **job.outcome["finish"]) else "skipped"


def _outcome(task, upload) -> dict:
    """Read ``upload`` and store its files: what to record, as plain data."""
    try:
        return {"finish": _read(upload)}
    except SoftTimeLimitExceeded:
        return {"fail": ["timeout", f"reading took longer than {_limits(task.request)[1]:g} s"]}
    except FileNotFoundError:
        return {"fail": ["missing_image", "the uploaded image is no longer in storage"]}
    except ImageError as exc:
        return {"fail": ["corrupt_image", f"the image cannot be read: {exc}"]}
    except TooDenseError as exc:  # over ml's budget of boxes: reading it again would not help
        return {"fail": ["too_dense", str(exc)]}


def _limits(request) -> tuple[float, float]:
    """(hard, soft) time limits of this delivery: those in the message (stamped by a sender that has
    the task registered: beat, a worker), else this worker's settings (the site sends by name)."""
    hard, soft = getattr(request, "timelimit", None) or (None, None)
    return (hard or settings.CELERY_TASK_TIME_LIMIT, soft or settings.CELERY_TASK_SOFT_TIME_LIMIT)


def _read(upload) -> dict:
    started = time.monotonic()
    with default_storage.open(upload.image.name, "rb") as f:
        data = f.read()
    image = decode_image(data, max_pixels=settings.DIGITSCAN_MAX_PIXELS)
    current = model_cache.active()
    reading = read(image, model=current.model)
    annotated = annotate(image, reading)
    files = services.upload_store_files(upload_id=upload.id, annotated_png=encode(annotated, ".png"),
                                        thumbnail_jpeg=encode(thumbnail(annotated), ".jpg"),
                                        screen_jpeg=screen_jpeg(annotated))
    # One line per reading done: the fault tests count them (an upload is never read twice).
    log.info("upload %s read in %.0f ms", upload.id, (time.monotonic() - started) * 1000)
    return {"reading": reading.to_dict(), "timings": reading.timings_ms, **files,
            "model_version_id": current.version.id if current.version else None}


@contextlib.contextmanager
def heartbeat(upload_id, claim: str):
    """Beat the upload's heartbeat every ``DIGITSCAN_HEARTBEAT_S`` from a thread while the body runs."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.DIGITSCAN_HEARTBEAT_S):
                try:
                    services.upload_heartbeat(upload_id=upload_id, claim=claim)
                except DATABASE_ERRORS as exc:
                    log.warning("upload %s: heartbeat not written (%s)", upload_id, type(exc).__name__)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{upload_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


@app.task(name="worker.tasks.reap_stuck_uploads")
def reap_stuck_uploads() -> dict[str, int]:
    """The upload sweeper (web/uploads/delivery.py): queue again what a dead worker or the broker lost."""
    return delivery.upload_sweep()
