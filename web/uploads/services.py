"""Writes of uploads and feedback: create (validate, store, enqueue), the worker's outcomes, claiming."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from web.celery import RECOGNIZE, enqueue
from web.errors import ApplicationError
from web.registry.models import ModelVersion
from web.uploads.models import Feedback, Upload
from web.uploads.owners import Owner
from web.uploads.validation import check_image, read_limited

log = logging.getLogger(__name__)


def upload_create(*, owner: Owner, image_file: File | None, source: str = Upload.Source.UPLOAD) -> Upload:
    """Validate ``image_file``, store it, save the row and queue it for reading once committed.

    Raises :class:`ApplicationError` (codes ``empty``, ``too_large``, ``unsupported_type``,
    ``too_many_pixels``, ``corrupt_image``) before anything is stored or queued.
    """
    if source not in Upload.Source.values:
        raise ApplicationError("bad_source", f"source must be one of {', '.join(Upload.Source.values)}")
    max_bytes, max_pixels = settings.DIGITSCAN_MAX_UPLOAD_BYTES, settings.DIGITSCAN_MAX_PIXELS
    checked = check_image(data=read_limited(image_file, max_bytes=max_bytes),
                          max_bytes=max_bytes, max_pixels=max_pixels)
    upload = Upload(owner=owner.user, session_key=owner.session_key if owner.user is None else "",
                    source=source, width=checked.width, height=checked.height)
    # The file is written before the row: a row never points at a missing file. A crash in between
    # leaves an orphan file, which is harmless and cheaper than the opposite.
    upload.image.save(f"original.{checked.extension}", ContentFile(checked.data), save=False)
    with transaction.atomic():
        upload.save()
        transaction.on_commit(lambda: _enqueue_recognition(upload.id))
    return upload


def _enqueue_recognition(upload_id: uuid.UUID) -> None:
    try:
        enqueue(RECOGNIZE, str(upload_id))
    except Exception:  # noqa: BLE001 - the upload is saved; the reaper queues it again later
        # The person already has their upload and its page; failing the request now would help nobody.
        log.exception("could not queue upload %s (broker down?); the reaper will queue it again", upload_id)


def upload_claim(*, session_key: str, user: AbstractBaseUser) -> int:
    """Move the anonymous uploads of ``session_key`` to ``user`` (at login or sign-up); how many moved."""
    if not session_key:
        return 0
    moved = Upload.objects.filter(owner__isnull=True, session_key=session_key).update(owner=user,
                                                                                       session_key="")
    Feedback.objects.filter(author__isnull=True, session_key=session_key).update(author=user, session_key="")
    return moved


def upload_start(*, upload_id: uuid.UUID | str) -> Upload | None:
    """Claim ``upload_id`` for one attempt; None when there is nothing to do (gone, or already finished).

    Counting attempts here, inside the row lock, is what caps redeliveries: a message redelivered
    after a worker died finds the count and gives up once it reaches ``DIGITSCAN_MAX_ATTEMPTS``.
    """
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(id=upload_id).first()
        if upload is None or upload.is_finished:
            return None
        if upload.attempts >= settings.DIGITSCAN_MAX_ATTEMPTS:
            _mark_failed(upload, "gave_up", f"reading was attempted {upload.attempts} times and never "
                         "finished (the worker died or timed out each time)")
            return None
        upload.attempts += 1
        upload.status = Upload.Status.RUNNING
        upload.started_at = timezone.now()
        upload.save(update_fields=["attempts", "status", "started_at"])
    return upload


def upload_finish(*, upload_id: uuid.UUID | str, reading: dict, timings: dict, annotated_png: bytes,
                  model_version: ModelVersion | None, thumbnail_jpeg: bytes = b"") -> Upload | None:
    """Record a successful reading; a no-op (None) if another delivery already finished the upload."""
    # Overwriting the same names keeps this idempotent: two deliveries write one file each, not two.
    stored = default_storage.save(f"uploads/{upload_id}/annotated.png", ContentFile(annotated_png))
    thumbnail = (default_storage.save(f"uploads/{upload_id}/thumbnail.jpg", ContentFile(thumbnail_jpeg))
                 if thumbnail_jpeg else "")
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(id=upload_id).first()
        if upload is None or upload.is_finished:
            return None
        upload.text, upload.lines, upload.digits = reading["text"], reading["lines"], reading["digits"]
        upload.display = reading.get("display", reading["lines"])
        upload.separators = reading.get("separators", [])
        upload.timings, upload.annotated_image, upload.model_version = timings, stored, model_version
        upload.thumbnail = thumbnail
        upload.status, upload.finished_at = Upload.Status.DONE, timezone.now()
        upload.error_code = upload.error_message = ""
        upload.save()
    return upload


def upload_release(*, upload_id: uuid.UUID | str) -> None:
    """Back to queued before a retry, so that pages show it waiting rather than stuck in running."""
    Upload.objects.filter(id=upload_id, status=Upload.Status.RUNNING).update(status=Upload.Status.QUEUED)


def upload_fail(*, upload_id: uuid.UUID | str, code: str, message: str) -> Upload | None:
    """Mark the upload failed with a reason a person can read; a no-op if it already finished."""
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(id=upload_id).first()
        if upload is None or upload.is_finished:
            return None
        _mark_failed(upload, code, message)
    return upload


def _mark_failed(upload: Upload, code: str, message: str) -> None:
    upload.status, upload.error_code, upload.error_message = Upload.Status.FAILED, code, message
    upload.finished_at = timezone.now()
    upload.save(update_fields=["status", "error_code", "error_message", "finished_at"])
    log.warning("upload %s failed: %s: %s", upload.id, code, message)


def upload_reap_stuck(*, older_than: dt.timedelta) -> int:
    """Fail uploads that have been running longer than ``older_than`` (their worker is gone); how many."""
    cutoff = timezone.now() - older_than
    reaped = 0
    stuck = Upload.objects.filter(status=Upload.Status.RUNNING, started_at__lt=cutoff)
    for upload_id in stuck.values_list("id", flat=True):
        minutes = older_than.total_seconds() / 60
        if upload_fail(upload_id=upload_id, code="stuck",
                       message=f"reading started more than {minutes:g} minutes ago and never finished"):
            reaped += 1
    return reaped


def feedback_create(*, upload: Upload, owner: Owner, text: str, comment: str = "") -> Feedback:
    """Store ``owner``'s correction of ``upload``'s reading (digits and spaces only)."""
    cleaned = " ".join(text.split())
    if not cleaned or not cleaned.replace(" ", "").isdigit():
        raise ApplicationError("bad_feedback", "the correction must be digits (lines separated by spaces)")
    if len(cleaned) > 1000:
        raise ApplicationError("bad_feedback", "the correction is longer than 1000 characters")
    return Feedback.objects.create(
        upload=upload, author=owner.user, session_key=owner.session_key if owner.user is None else "",
        text=cleaned, digits=_per_digit(upload, cleaned), comment=comment.strip()[:5000],
    )


def feedback_set_accepted(*, feedback_ids: list[int], accepted: bool) -> int:
    """Staff's decision: use these corrections as training data (or not); how many changed."""
    return Feedback.objects.filter(id__in=feedback_ids).exclude(accepted=accepted).update(accepted=accepted)


def _per_digit(upload: Upload, corrected: str) -> list[dict]:
    """Digit-by-digit corrections when the correction has the same shape as the reading, else []."""
    read_lines, new_lines = upload.lines or [], corrected.split(" ")
    if [len(x) for x in read_lines] != [len(x) for x in new_lines]:
        return []
    pairs = zip("".join(read_lines), "".join(new_lines), strict=True)
    return [{"index": i, "read": int(a), "corrected": int(b)} for i, (a, b) in enumerate(pairs)]
