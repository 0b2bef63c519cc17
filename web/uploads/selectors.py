"""Reads of uploads, batches and feedback. Every read on behalf of a person goes through an owner filter."""

from __future__ import annotations

import uuid

from django.db.models import Count, Q, QuerySet

from web.uploads.models import Batch, Feedback, Upload
from web.uploads.owners import Owner


def as_uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one (a malformed id is simply not found)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def upload_list_for(*, owner: Owner | None) -> QuerySet[Upload]:
    """``owner``'s uploads, newest first; nothing at all for None."""
    if owner is None:
        return Upload.objects.none()
    # The corrections come along: every list shows the corrected reading.
    base = Upload.objects.select_related("model_version").prefetch_related("feedback")
    if owner.user is not None:
        return base.filter(owner=owner.user)
    return base.filter(owner__isnull=True, session_key=owner.session_key)


def upload_get_for(*, owner: Owner | None, upload_id: uuid.UUID | str) -> Upload | None:
    """The upload if ``owner`` owns it, else None: the caller answers 404 either way (no existence leak)."""
    key = as_uuid(upload_id)
    return upload_list_for(owner=owner).filter(id=key).first() if key else None


def upload_get_viewable(*, owner: Owner | None, upload_id: uuid.UUID | str) -> Upload | None:
    """The upload if ``owner`` may look at it, else None: their own, or any at all for staff (DESIGN.md:
    staff see all, e.g. to judge a correction against its image). Changing an upload (correcting,
    deleting) stays its owner's: :func:`upload_get_for`."""
    if owner is not None and is_staff(owner):
        key = as_uuid(upload_id)
        return Upload.objects.select_related("model_version").filter(id=key).first() if key else None
    return upload_get_for(owner=owner, upload_id=upload_id)


def is_staff(owner: Owner | None) -> bool:
    user = owner.user if owner is not None else None
    return bool(user is not None and user.is_active and user.is_staff)


def batch_list_for(*, owner: Owner | None) -> QuerySet[Batch]:
    """``owner``'s batches, newest first, each with ``size`` (uploads in it now) and ``finished``."""
    if owner is None:
        mine = Batch.objects.none()
    elif owner.user is not None:
        mine = Batch.objects.filter(owner=owner.user)
    else:
        mine = Batch.objects.filter(owner__isnull=True, session_key=owner.session_key)
    done = Q(uploads__status__in=[Upload.Status.DONE, Upload.Status.FAILED])
    # (Meta.ordering is dropped once the query groups: ordered again here.)
    return mine.annotate(size=Count("uploads"), finished=Count("uploads", filter=done)).order_by("-created")


def batch_get_for(*, owner: Owner | None, batch_id: uuid.UUID | str) -> Batch | None:
    """The batch if ``owner`` owns it, else None (the caller answers 404 either way, like uploads)."""
    key = as_uuid(batch_id)
    return batch_list_for(owner=owner).filter(id=key).first() if key else None


def batch_uploads(*, batch: Batch) -> QuerySet[Upload]:
    """The uploads of ``batch`` in the order they were sent."""
    return (Upload.objects.select_related("model_version").prefetch_related("feedback").filter(batch=batch)
            .order_by("queued_at", "id"))


def upload_get(*, upload_id: uuid.UUID | str) -> Upload | None:
    """Any upload by id, for the workers (which act for nobody)."""
    key = as_uuid(upload_id)
    return Upload.objects.select_related("model_version").filter(id=key).first() if key else None


def upload_ids_never_started(*, queued_before) -> list[uuid.UUID]:
    """Uploads still waiting for their first delivery since ``queued_before`` (their message was lost)."""
    return list(Upload.objects.filter(status=Upload.Status.QUEUED, attempts=0, queued_at__lt=queued_before)
                .values_list("id", flat=True))


def feedback_list_for(*, upload: Upload) -> QuerySet[Feedback]:
    return Feedback.objects.filter(upload=upload)


def feedback_for_training() -> list[Feedback]:
    """The corrections to learn from: each upload's newest correction, when staff accepted it and it changes
    something, oldest first. Each correction is complete, so an older one would teach what the person later
    changed, even when the newer one is "back to the reading as read" or not yet accepted."""
    latest: dict = {}
    for feedback in Feedback.objects.select_related("upload").order_by("created", "id"):
        latest[feedback.upload_id] = feedback
    return sorted((f for f in latest.values() if f.accepted and f.operations), key=lambda f: f.created)


def latest_correction(upload: Upload) -> Feedback | None:
    """The upload's newest correction (each is complete, so the newest is its corrected reading); from
    ``prefetch_related("feedback")`` when the caller made one (history, exports), else one query."""
    if "feedback" in getattr(upload, "_prefetched_objects_cache", {}):
        return max(upload.feedback.all(), key=lambda f: (f.created, f.id), default=None)
    return upload.feedback.order_by("-created", "-id").first()

