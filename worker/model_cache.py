"""One loaded model per worker process, swapped when staff activate another version.

A Celery task object lives as long as its process, and so does this cache: the checkpoint is read once
after the fork (``worker_process_init``), not once per upload.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from django.conf import settings
from django.core.files.storage import default_storage

from ml.models.checkpoint import LoadedModel, load_checkpoint
from ml.reading.linereader import default_line_model
from web.registry.models import ModelVersion
from web.registry.selectors import model_version_active_id
from web.registry.services import model_version_ensure_active

log = logging.getLogger(__name__)


@dataclass
class Active:
    version: ModelVersion
    model: LoadedModel


_current: Active | None = None


def torch_threads(*, concurrency: int, cores: int | None = None) -> int:
    """Threads per process so that processes × threads ≤ cores (never fewer than one)."""
    if settings.DIGITSCAN_TORCH_THREADS > 0:
        return settings.DIGITSCAN_TORCH_THREADS
    cores = cores or len(os.sched_getaffinity(0))
    return max(1, cores // max(1, concurrency))


def local_checkpoint(version: ModelVersion) -> Path:
    """A local path to ``version``'s checkpoint: the file itself on local storage, else a cached copy."""
    try:
        return Path(default_storage.path(version.checkpoint.name))
    except NotImplementedError:  # remote storage (S3): download once into var/
        pass
    target = Path(settings.VAR_DIR) / "model-cache" / Path(version.checkpoint.name).name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(version.checkpoint.name, "rb") as src, tempfile.NamedTemporaryFile(
                dir=target.parent, delete=False) as tmp:
            tmp.write(src.read())
        Path(tmp.name).replace(target)  # atomic: another process never loads half a file
    return target


def load(version: ModelVersion) -> Active:
    model = load_checkpoint(local_checkpoint(version))
    log.info("worker %s loaded model version %s (%s)", os.getpid(), version.pk, version.name)
    return Active(version=version, model=model)


def active() -> Active:
    """The active version's model, reloading it when the active version changed since the last task."""
    global _current
    active_id = model_version_active_id()
    if _current is None or _current.version.pk != active_id:
        _current = load(model_version_ensure_active() if active_id is None
                        else ModelVersion.objects.get(pk=active_id))
    return _current


def warm_up(*, concurrency: int) -> None:
    """Called once per process after the fork: set torch threads, load the model before the first task."""
    threads = torch_threads(concurrency=concurrency)
    torch.set_num_threads(threads)
    log.info("worker process %s: one of %d, with %d torch threads", os.getpid(), concurrency, threads)
    try:
        active()
        default_line_model()  # the line reader's second opinion, shared by every model version
    except Exception:  # noqa: BLE001 - the first task retries the load and reports the reason
        log.exception("could not load the active model at process start")
