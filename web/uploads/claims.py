"""Who is reading an upload: a claim names its process ("host:pid:token"); is that process still at it?"""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from web.uploads.models import Upload


def this_process() -> str:
    """This process as claims name it (a reading process is a prefork pool process: one task at a time)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_is_alive(upload: Upload) -> bool:
    """Whether the process that claimed ``upload`` may still be reading it.

    A claim of this very process is over (a pool process reads one upload at a time), and so is one of a
    process on this host that no longer exists: a pool process killed mid-read, whose message Celery
    re-queues at once. Otherwise the heartbeat decides (``DIGITSCAN_STALE_AFTER_S``). This assumes a host
    name per process-id space, as containers have unless two are given the same ``hostname``.
    """
    host, _, rest = upload.claimed_by.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid() or not _pid_alive(int(pid)):
            return False
    stale = timezone.now() - dt.timedelta(seconds=settings.DIGITSCAN_STALE_AFTER_S)
    return upload.heartbeat_at is not None and upload.heartbeat_at >= stale


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rpartition(")")[2].split()[:1] == ["Z"])
