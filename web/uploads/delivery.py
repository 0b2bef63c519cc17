"""The upload sweeper: every upload gets a message until it is read, whatever the broker or a worker lost.

Beat runs it (``reap_stuck_uploads``) every ``DIGITSCAN_SWEEP_EVERY_S``. One sweep:

1. gives back to the queue every ``running`` upload whose reading process is dead: its heartbeat was
   already ``DIGITSCAN_STALE_AFTER_S`` old at the previous sweep and it has not beaten since. Asking for
   two sweeps in a row is what keeps a database outage from looking like a death: nobody can beat while
   the database is down, and a process whose write failed takes its upload back (and beats) within
   seconds of its return, before the second sweep after it;
2. sends a message for every ``queued`` upload that has none (``enqueued_at`` null: the broker was down
   when the site or the step above tried, or the site died between commit and send);
3. sends another for a ``queued`` upload whose message was handed out more than ``DIGITSCAN_LOST_AFTER_S``
   ago and cannot still be waiting in the queue: the queue holds fewer messages than were sent after it
   (it was given to a worker that died before starting it, or the broker lost it).

Duplicates are harmless: ``upload_start`` claims under a row lock, and a delivery for an upload that is
finished or being read by a live process does nothing. An upload fails only when its attempts are spent.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import ChannelError

from web.uploads.models import SweepMark, Upload
from web.uploads.services import upload_send

log = logging.getLogger(__name__)

QUEUE = "inference"  # where recognize goes (CELERY_TASK_ROUTES)
BATCH = 1000  # uploads sent per step and sweep at most; the next sweep goes on


def upload_sweep() -> dict[str, int]:
    """One sweep (see the module's docstring); how many uploads each step released or sent."""
    now = timezone.now()
    previous = _mark(now)
    released = _release_dead(previous) if previous else 0
    sent = _send_unsent(now)
    resent = _resend_lost(now) if sent >= 0 else 0
    counts = {"released": released, "sent": max(sent, 0), "resent": resent}
    if released or sent or resent:
        log.warning("upload sweep: %s", counts)
    return counts


def _mark(now: dt.datetime) -> dt.datetime | None:
    """Note this sweep; when the one before it ran (None for the first)."""
    with transaction.atomic():
        mark, created = SweepMark.objects.select_for_update().get_or_create(name="uploads",
                                                                           defaults={"ran_at": now})
        previous = None if created else mark.ran_at
        if not created:
            mark.ran_at = now
            mark.save(update_fields=["ran_at"])
    return previous


def _release_dead(previous: dt.datetime) -> int:
    """Step 1: running uploads whose heartbeat was stale at the previous sweep go back to unsent."""
    cutoff = previous - dt.timedelta(seconds=settings.DIGITSCAN_STALE_AFTER_S)
    # (No heartbeat at all: claimed by a version before heartbeats; its start time stands in.)
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    dead = Upload.objects.filter(silent, status=Upload.Status.RUNNING)
    # The claim stays: a delivery that a database error interrupted finds it and resumes without
    # counting an attempt. Attempts are counted, and spent ones failed, when the next delivery claims it.
    return dead.update(status=Upload.Status.QUEUED, enqueued_at=None)


def _send_unsent(now: dt.datetime) -> int:
    """Step 2: a message for each queued upload without one; -1 when the broker refused (stop there)."""
    # A few seconds' grace for a new upload: the site sends right after its commit.
    unsent = (Upload.objects.filter(Q(queued_at__lt=now - dt.timedelta(seconds=5)) | Q(attempts__gt=0),
                                    status=Upload.Status.QUEUED, enqueued_at__isnull=True)
              .order_by("queued_at").values_list("id", flat=True)[:BATCH])
    sent = 0
    for upload_id in unsent:
        if not upload_send(upload_id=upload_id):
            return -1
        sent += 1
    return sent


def _resend_lost(now: dt.datetime) -> int:
    """Step 3: queued uploads whose message was given out long ago and is not among those still waiting."""
    waiting = queue_length()
    if waiting is None:
        return 0
    # FIFO: the queue holds (at most) the messages of the ``waiting`` uploads sent last; older ones were
    # handed to a worker. Duplicates and messages of finished uploads only make this count too high,
    # which errs on the side of waiting.
    sent = (Upload.objects.filter(status=Upload.Status.QUEUED, enqueued_at__isnull=False)
            .order_by("-enqueued_at").values_list("id", "enqueued_at")[waiting:waiting + BATCH])
    cutoff = now - dt.timedelta(seconds=settings.DIGITSCAN_LOST_AFTER_S)
    resent = 0
    for upload_id, enqueued_at in sent:
        if enqueued_at < cutoff:
            if not upload_send(upload_id=upload_id):
                break
            resent += 1
    return resent


def queue_length() -> int | None:
    """How many messages wait in the inference queue; None when the broker cannot say."""
    from web.celery import app

    try:
        with app.connection_for_write() as conn:
            return conn.default_channel.queue_declare(queue=QUEUE, passive=True).message_count
    except ChannelError:
        return 0  # no such queue: Redis keeps no empty list, so an empty queue is not found
    except Exception as exc:  # noqa: BLE001 - the broker is down: resend nothing now
        log.info("inference queue length unknown (%s: %s)", type(exc).__name__, exc)
        return None
