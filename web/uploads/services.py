"""Writes of uploads, batches and feedback: create (validate, store, enqueue), the worker's claims and
outcomes."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from web.celery import RECOGNIZE, enqueue
from web.errors import ApplicationError
from web.registry.models import ModelVersion
from web.uploads.alignment import operations_from_text
from web.uploads.claims import claim_is_alive, this_process
from web.uploads.corrections import checked_operations, corrected_reading
from web.uploads.filenames import shown_name
from web.uploads.models import Batch, Feedback, SiteFeedback, Upload
from web.uploads.owners import Owner
from web.uploads.selectors import latest_correction, upload_get_for
from web.uploads.validation import CheckedImage, check_image, read_limited

log = logging.getLogger(__name__)

# What an unreachable database raises (refused, reset, shut down): an outage to wait out, not a failure.
DATABASE_ERRORS = (OperationalError, InterfaceError)


def upload_create(*, owner: Owner, image_file: File | None, source: str = Upload.Source.UPLOAD,
                  batch: Batch | None = None) -> Upload:
    """Validate ``image_file``, store it, save the row (in ``batch``, if given: one of ``owner``'s) and
    queue it for reading once committed.

    Raises :class:`ApplicationError` (codes ``empty``, ``too_large``, ``unsupported_type``,
    ``too_many_pixels``, ``corrupt_image``, ``blank_image``) before anything is stored or queued.
    """
    _check_source(source)
    try:
        checked = _checked(image_file)
    except ApplicationError as exc:
        if exc.code == "blank_image" and source == Upload.Source.CANVAS:  # not a word about decoding
            raise ApplicationError("blank_image", _("the drawing is empty: draw some digits first")) from exc
        raise
    upload = _stored_upload(owner=owner, checked=checked, source=source, batch=batch,
                            name=getattr(image_file, "name", ""))
    with transaction.atomic():
        upload.save()
        transaction.on_commit(lambda: _enqueue_recognition(upload.id))
    return upload


@dataclass
class BatchItem:
    """One file of a batch request: its upload, or why it was refused (nothing of it stored)."""

    name: str
    upload: Upload | None = None
    error: ApplicationError | None = None


def batch_create(*, owner: Owner, image_files: list[File], source: str = Upload.Source.UPLOAD,
                 admit: Callable[[], ApplicationError | None] | None = None, include: list[Upload] = (),
                 ) -> tuple[Batch | None, list[BatchItem]]:
    """A new batch of the images of ``image_files`` that pass the checks, each checked on its own, and of
    the uploads of ``include`` (``owner``'s, in no batch: :func:`batch_includable`).

    ``admit`` is asked before each file (the upload rate): an error it returns refuses that file.
    Every refused file is an item with its error and nothing stored; the good ones are queued. With no
    good file there is no batch (None), and ``include`` stays as it was: a batch is never empty, and the
    upload page sends its first file on its own, making a batch only once a second one is taken.
    """
    _check_source(source)
    items = _store_each(owner=owner, image_files=image_files, source=source, admit=admit)
    if not any(item.upload for item in items):
        return None, items
    batch = Batch(owner=owner.user, session_key=_session_key(owner))
    with transaction.atomic():
        batch.save()
        Upload.objects.filter(id__in=[u.id for u in include], batch__isnull=True).update(batch=batch)
        _save_queued(items, batch)
    return batch, items


def batch_includable(*, owner: Owner, upload_ids: list[str]) -> list[Upload]:
    """The uploads ``upload_ids`` names, each ``owner``'s and in no batch yet, for :func:`batch_create`;
    :class:`ApplicationError` ``bad_upload`` naming one that is not."""
    found = []
    for upload_id in upload_ids:
        upload = upload_get_for(owner=owner, upload_id=upload_id)
        if upload is None or upload.batch_id is not None:
            raise ApplicationError("bad_upload", _("upload %(id)s is not one of yours outside a batch")
                                   % {"id": str(upload_id)[:40]})
        found.append(upload)
    return found


def batch_add(*, batch: Batch, owner: Owner, image_files: list[File], source: str = Upload.Source.UPLOAD,
              admit: Callable[[], ApplicationError | None] | None = None) -> list[BatchItem]:
    """Add the good images of ``image_files`` to ``batch`` (one of ``owner``'s), as :func:`batch_create`."""
    _check_source(source)
    items = _store_each(owner=owner, image_files=image_files, source=source, admit=admit)
    with transaction.atomic():
        _save_queued(items, batch)
    return items


def _store_each(*, owner: Owner, image_files: list[File], source: str,
                admit: Callable[[], ApplicationError | None] | None) -> list[BatchItem]:
    if not image_files:
        raise ApplicationError("empty", _("no image was sent (expected one or more JPEG or PNG files)"))
    items = []
    for image_file in image_files:
        item = BatchItem(name=shown_name(getattr(image_file, "name", "")))
        try:
            refused = admit() if admit else None
            if refused is not None:
                raise refused
            item.upload = _stored_upload(owner=owner, checked=_checked(image_file), source=source,
                                         name=item.name)
        except ApplicationError as exc:
            item.error = exc
        items.append(item)
    return items


def _save_queued(items: list[BatchItem], batch: Batch) -> None:
    """Save the accepted items' rows in ``batch`` (inside the caller's transaction); queue them on commit."""
    stored = [item.upload for item in items if item.upload]
    for upload in stored:
        upload.batch = batch
        upload.save()

    def send_all() -> None:
        for upload in stored:
            _enqueue_recognition(upload.id)

    transaction.on_commit(send_all)


def _check_source(source: str) -> None:
    if source not in Upload.Source.values:
        raise ApplicationError("bad_source", _("source must be one of %(choices)s")
                               % {"choices": ", ".join(Upload.Source.values)})


def _session_key(owner: Owner) -> str:
    return owner.session_key if owner.user is None else ""


def _checked(image_file: File | None) -> CheckedImage:
    max_bytes, max_pixels = settings.DIGITSCAN_MAX_UPLOAD_BYTES, settings.DIGITSCAN_MAX_PIXELS
    return check_image(data=read_limited(image_file, max_bytes=max_bytes), max_bytes=max_bytes,
                       max_pixels=max_pixels)


def _stored_upload(*, owner: Owner, checked: CheckedImage, source: str, batch: Batch | None = None,
                   name: str = "") -> Upload:
    """An unsaved row whose image is already in storage; ``name``, the client's name for the file, is
    kept (made safe) to be shown, never used for storage."""
    upload = Upload(owner=owner.user, session_key=_session_key(owner), source=source, batch=batch,
                    width=checked.width, height=checked.height, name=shown_name(name))
    # The file is written before the row: a row never points at a missing file. A crash in between
    # leaves an orphan file, which is harmless and cheaper than the opposite.
    upload.image.save(f"original.{checked.extension}", ContentFile(checked.data), save=False)
    return upload


def _enqueue_recognition(upload_id: uuid.UUID) -> None:
    # The person already has their upload and its page; failing the request now would help nobody. If
    # the broker is down the row stays unsent, and the sweeper sends it once the broker is back.
    upload_send(upload_id=upload_id)


def upload_send(*, upload_id: uuid.UUID | str) -> bool:
    """Hand the upload's message to the broker and note when (``enqueued_at``); False if it is down."""
    try:
        enqueue(RECOGNIZE, str(upload_id))
    except Exception:  # noqa: BLE001 - any broker error: the row stays unsent for the sweeper
        log.exception("could not queue upload %s (broker down?); the sweeper will send it", upload_id)
        return False
    try:
        Upload.objects.filter(id=upload_id, status=Upload.Status.QUEUED).update(enqueued_at=timezone.now())
    except DATABASE_ERRORS:
        # The message is out; the sweeper may send another, which finds the upload taken and does nothing.
        log.warning("upload %s was queued but its row could not say so (database down?)", upload_id)
    return True


def upload_claim(*, session_key: str, user: AbstractBaseUser) -> int:
    """Move the anonymous uploads of ``session_key`` to ``user`` (at login or sign-up); how many moved."""
    if not session_key:
        return 0
    moved = Upload.objects.filter(owner__isnull=True, session_key=session_key).update(owner=user,
                                                                                       session_key="")
    Batch.objects.filter(owner__isnull=True, session_key=session_key).update(owner=user, session_key="")
    Feedback.objects.filter(author__isnull=True, session_key=session_key).update(author=user, session_key="")
    return moved


def upload_start(*, upload_id: uuid.UUID | str, resume: str = "") -> Upload | None:
    """Claim ``upload_id`` for one attempt; None when there is nothing to do (gone, finished, or being read
    by a process that is still alive).

    Counting attempts here, inside the row lock, is what caps redeliveries: a message redelivered
    after a worker died finds the count and gives up once it reaches ``DIGITSCAN_MAX_ATTEMPTS``.
    ``resume`` is the claim of a delivery that a database error interrupted (the retry carries it): if the
    row is still that claim's, it is taken back without counting another attempt.
    """
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(id=upload_id).first()
        if upload is None or upload.is_finished:
            return None
        resuming = bool(resume) and upload.claimed_by == resume
        if not resuming and upload.status == Upload.Status.RUNNING and claim_is_alive(upload):
            return None  # a duplicate message; the process reading it records the outcome
        if not resuming and upload.attempts >= settings.DIGITSCAN_MAX_ATTEMPTS:
            _mark_failed(upload, "gave_up", f"reading was attempted {upload.attempts} times and never "
                         "finished (the worker died or timed out each time)")
            return None
        if not resuming:
            upload.attempts += 1
            upload.started_at = timezone.now()
        upload.status, upload.heartbeat_at = Upload.Status.RUNNING, timezone.now()
        upload.claimed_by = f"{this_process()}:{uuid.uuid4().hex[:12]}"
        upload.save(update_fields=["attempts", "status", "started_at", "heartbeat_at", "claimed_by"])
    return upload


def upload_heartbeat(*, upload_id: uuid.UUID | str, claim: str) -> bool:
    """The reading process of ``claim`` is still at it; False once the row is no longer that claim's."""
    return bool(Upload.objects.filter(id=upload_id, status=Upload.Status.RUNNING, claimed_by=claim)
                .update(heartbeat_at=timezone.now()))


def upload_finish(*, upload_id: uuid.UUID | str, reading: dict, timings: dict, annotated_png: bytes,
                  model_version: ModelVersion | None, thumbnail_jpeg: bytes = b"", screen_jpeg: bytes = b"",
                  ) -> Upload | None:
    """Record a successful reading; a no-op (None) if another delivery already finished the upload."""
    files = upload_store_files(upload_id=upload_id, annotated_png=annotated_png,
                               thumbnail_jpeg=thumbnail_jpeg, screen_jpeg=screen_jpeg)
    return upload_record(upload_id=upload_id, reading=reading, timings=timings,
                         model_version_id=model_version.id if model_version else None, **files)


def upload_store_files(*, upload_id: uuid.UUID | str, annotated_png: bytes, thumbnail_jpeg: bytes = b"",
                       screen_jpeg: bytes = b"") -> dict[str, str]:
    """Store the annotated image at full size, sized for the screen and as a thumbnail; their names,
    for :func:`upload_record`."""
    # Overwriting the same names keeps this idempotent: two deliveries write one file each, not two.
    stored = default_storage.save(f"uploads/{upload_id}/annotated.png", ContentFile(annotated_png))

    def optional(name: str, data: bytes) -> str:
        return default_storage.save(f"uploads/{upload_id}/{name}", ContentFile(data)) if data else ""

    return {"annotated": stored, "thumbnail": optional("thumbnail.jpg", thumbnail_jpeg),
            "screen": optional("screen.jpg", screen_jpeg)}


def upload_record(*, upload_id: uuid.UUID | str, reading: dict, timings: dict, annotated: str,
                  thumbnail: str, model_version_id: int | None, screen: str = "") -> Upload | None:
    """Record a reading whose files are stored; a no-op (None) if another delivery finished it first.

    Everything it takes is plain data, so that a delivery interrupted by a database error can carry it in
    its retry and record it later without reading the image again (``screen`` has a default: a retry
    sent by a worker of the version before it carries none).
    """
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(id=upload_id).first()
        if upload is None or upload.is_finished:
            return None
        upload.text, upload.lines, upload.digits = reading["text"], reading["lines"], reading["digits"]
        upload.display = reading.get("display", reading["lines"])
        upload.separators = reading.get("separators", [])
        upload.timings, upload.annotated_image = timings, annotated
        upload.model_version_id, upload.thumbnail = model_version_id, thumbnail
        upload.screen_image = screen
        upload.status, upload.finished_at = Upload.Status.DONE, timezone.now()
        upload.error_code = upload.error_message = ""
        upload.save()
    return upload


def upload_release(*, upload_id: uuid.UUID | str, retry_in: float = 0) -> None:
    """Back to queued before a retry (sent for ``retry_in`` seconds from now), so that pages show it
    waiting rather than stuck in running, and the sweeper does not take the retry for lost."""
    when = timezone.now() + dt.timedelta(seconds=retry_in)
    Upload.objects.filter(id=upload_id, status=Upload.Status.RUNNING).update(status=Upload.Status.QUEUED,
                                                                             enqueued_at=when)


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


def feedback_create(*, upload: Upload, owner: Owner, text: str | None = None,
                    operations: list | None = None, comment: str = "") -> Feedback:
    """Store ``owner``'s correction of ``upload``'s reading, complete by itself (it replaces the one before):
    either ``operations`` digit by digit (``web.uploads.corrections``), or ``text`` — digits of any
    script (``web.uploads.digits``), lines separated by spaces — aligned to the boxes by edit distance
    (``web.uploads.alignment``).

    Raises :class:`ApplicationError`: ``not_done`` before the reading is there, ``bad_feedback`` for text
    that is not digits, ``bad_correction`` for operations that do not fit the reading (the message names
    which and why), ``no_change`` when it would leave the current reading as it is.
    """
    if upload.status != Upload.Status.DONE:
        raise ApplicationError("not_done", _("there is no reading to correct yet: correct it once its digits "
                                             "are shown") if not upload.is_finished else
                               _("this upload could not be read, so there is no reading to correct"))
    if (text is None) == (operations is None):
        raise ApplicationError("bad_correction", _("send either the corrected text or the operations, "
                                                   "not both and not neither"))
    digits, previous = upload.digits or [], latest_correction(upload)
    current = previous.operations if previous else []
    if operations is not None:
        ops = checked_operations(operations, digits=digits, width=upload.width, height=upload.height)
    else:
        ops = operations_from_text(text, digits=digits, separators=upload.separators or [], current=current)
    if _same(ops, current):
        if not ops and upload.separators:  # "12353" sent back for "1,23.53": the marks are not digits
            raise ApplicationError("no_change", _("those are the digits as read (the . , - shown between "
                                                  "them are marks DigitScan saw on the page, never digits): "
                                                  "change a digit, mark a box as not a digit or add a "
                                                  "missed one to correct it"))
        raise ApplicationError("no_change", _("that is the reading as it stands: change a digit, mark a box "
                                              "as not a digit, add a missed one, or remove a ? to confirm "
                                              "a digit"))
    fixed = corrected_reading(digits, upload.separators or [], ops)
    return Feedback.objects.create(
        upload=upload, author=owner.user, session_key=_session_key(owner),
        text=fixed.text, operations=ops, comment=comment.strip()[:5000],
    )


def _same(ops: list[dict], current: list[dict]) -> bool:
    def key(op: dict) -> str:
        return json.dumps(op, sort_keys=True)

    return sorted(map(key, ops)) == sorted(map(key, current))


def feedback_set_accepted(*, feedback_ids: list[int], accepted: bool) -> int:
    """Staff's decision: use these corrections as training data (or not); how many changed."""
    return Feedback.objects.filter(id__in=feedback_ids).exclude(accepted=accepted).update(accepted=accepted)


def site_feedback_create(*, owner: Owner, message: str, contact: str = "", page: str = "") -> SiteFeedback:
    """Store a visitor's word about the site (the home page's feedback form) for staff to read."""
    message = message.strip()
    if not message:
        raise ApplicationError("empty_feedback", _("the feedback is empty: write what you would like us "
                               "to know"))
    if len(message) > 5000:
        raise ApplicationError("bad_feedback", _("the feedback is longer than %(n)d characters")
                               % {"n": 5000})
    return SiteFeedback.objects.create(
        author=owner.user, session_key=_session_key(owner), message=message,
        contact=contact.strip()[:200], page=page[:200])


def upload_delete(*, upload: Upload) -> None:
    """Delete a finished upload: its row, its corrections and every file it has in storage.

    Raises :class:`ApplicationError` ``busy`` while it is queued or being read (a worker would write its
    annotated image after the row is gone).
    """
    if not upload.is_finished:
        raise ApplicationError("busy", _("the upload is still being read: delete it once it is done"))
    files = (upload.image, upload.annotated_image, upload.screen_image, upload.thumbnail)
    names = [f.name for f in files if f]
    upload.delete()  # the row first: a file left behind by a failure here is harmless, a row without one not
    for name in names:
        default_storage.delete(name)
