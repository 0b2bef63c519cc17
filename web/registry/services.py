"""Writes for the model lifecycle: register a checkpoint as a ModelVersion, choose the active one."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

import ml
from web.errors import ApplicationError
from web.registry.models import ExperimentRun, ModelVersion
from web.registry.selectors import model_version_active


def default_checkpoint_path() -> Path:
    """The checkpoint registered first: ``DIGITSCAN_DEFAULT_CHECKPOINT`` or the one shipped with ml."""
    return Path(settings.DIGITSCAN_DEFAULT_CHECKPOINT or ml.DEFAULT_CHECKPOINT)


def model_version_register(*, path: Path, activate: bool = False, name: str | None = None) -> ModelVersion:
    """Copy the checkpoint at ``path`` into storage and record it; the same bytes give the same row.

    The checkpoint is loaded first, so a file that ml cannot use (wrong format, preprocessing signature
    mismatch) raises ``ml.CheckpointError`` and is never registered.
    """
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    existing = ModelVersion.objects.filter(sha256=digest).first()
    if existing is None:
        meta = ml.load_checkpoint(path).meta
        existing = _create_version(data=data, digest=digest, meta=meta, name=name or Path(path).stem)
    if activate and not existing.is_active:
        model_version_activate(version=existing)
    return existing


def _create_version(*, data: bytes, digest: str, meta: dict, name: str) -> ModelVersion:
    version = ModelVersion(
        name=meta.get("name") or name, sha256=digest, family=meta.get("family", ""),
        config=meta.get("config", {}), metrics=_json_safe(meta.get("metrics", {})),
        preprocess_signature=(meta.get("preprocess") or {}).get("signature", ""),
        training=_json_safe(meta.get("training", {})),
    )
    version.checkpoint.save(f"{name}-{digest[:12]}.pt", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            version.save()
    except IntegrityError:
        # Another process registered the same bytes a moment ago: theirs is as good as ours.
        return ModelVersion.objects.get(sha256=digest)
    return version


def _json_safe(value):
    """Checkpoint metadata may hold tuples or numpy scalars; JSONField wants plain JSON."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make ``version`` the one active version (workers swap to it on their next task)."""
    with transaction.atomic():
        ModelVersion.objects.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
        ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.refresh_from_db()
    return version


def model_version_ensure_active() -> ModelVersion:
    """The active version, registering and activating the default checkpoint when there is none.

    Several worker processes may call this at once on a fresh database; the unique constraint on the
    active flag lets exactly one activation win, and the others read the winner.
    """
    active = model_version_active()
    if active is not None:
        return active
    try:
        return model_version_register(path=default_checkpoint_path(), activate=True)
    except IntegrityError:
        active = model_version_active()
        if active is None:
            raise
        return active


# --- experiment runs (retraining) -----------------------------------------------------------------

# What a retrain may be asked for, with defaults; anything else in params is refused.
TRAIN_DEFAULTS: dict = {
    "recipe": "served",  # ml.recipes name
    "epochs": None,  # None: the recipe's
    "limit": None,  # train on a random subset of this many MNIST images (None: all 60,000)
    "test_limit": None,  # evaluate on a subset of the MNIST test set (None: all 10,000)
    "feedback": True,  # add the digits of accepted feedback to the training data
    "dry_run": False,  # two batches only: checks the pipeline in seconds
    "seed": 0,
}


def train_params(params: dict | None) -> dict:
    """``params`` merged over the defaults; :class:`ApplicationError` for unknown or malformed ones."""
    params = dict(params or {})
    unknown = set(params) - set(TRAIN_DEFAULTS)
    if unknown:
        raise ApplicationError("bad_params", f"unknown retrain parameters: {', '.join(sorted(unknown))} "
                               f"(known: {', '.join(TRAIN_DEFAULTS)})")
    for key in ("epochs", "limit", "test_limit"):
        value = params.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ApplicationError("bad_params", f"{key} must be a positive integer or null, not {value!r}")
    return {**TRAIN_DEFAULTS, **params}


def experiment_run_create(*, params: dict | None = None, created_by=None) -> ExperimentRun:
    """Record a retrain and queue it on the ``training`` queue once the transaction commits."""
    run = ExperimentRun.objects.create(kind=ExperimentRun.Kind.TRAIN, params=train_params(params),
                                       created_by=created_by)
    experiment_run_enqueue(run=run)
    return run


def experiment_run_enqueue(*, run: ExperimentRun) -> None:
    def send() -> None:
        from worker.tasks import train_model  # see uploads.services._enqueue_recognition: no cycle

        train_model.delay(run.id)

    transaction.on_commit(send)


def experiment_run_start(*, run_id: int) -> ExperimentRun | None:
    """queued (or running, after its worker died) → running; None when it finished already."""
    with transaction.atomic():
        run = ExperimentRun.objects.select_for_update().filter(id=run_id).first()
        if run is None or run.status in (ExperimentRun.Status.DONE, ExperimentRun.Status.FAILED):
            return None
        run.status, run.started, run.progress = ExperimentRun.Status.RUNNING, timezone.now(), 0.0
        run.save(update_fields=["status", "started", "progress"])
    return run


def experiment_run_report(*, run_id: int, progress: float | None = None, line: str = "") -> None:
    """Move the progress bar and/or append a line to the run's log (as staff see it in the admin)."""
    run = ExperimentRun.objects.get(id=run_id)
    if progress is not None:
        run.progress = max(0.0, min(1.0, progress))
    if line:
        run.log += f"{timezone.now():%H:%M:%S} {line}\n"
    run.save(update_fields=["progress", "log"])


def experiment_run_finish(*, run_id: int, results: dict, version: ModelVersion | None) -> ExperimentRun:
    run = ExperimentRun.objects.get(id=run_id)
    run.status, run.progress, run.finished = ExperimentRun.Status.DONE, 1.0, timezone.now()
    run.results, run.model_version = _json_safe(results), version
    run.save(update_fields=["status", "progress", "finished", "results", "model_version"])
    return run


def experiment_run_fail(*, run_id: int, error: str) -> None:
    ExperimentRun.objects.filter(id=run_id).update(status=ExperimentRun.Status.FAILED, error=error,
                                                   finished=timezone.now())


def model_version_promote_if_better(*, version: ModelVersion, accuracy: float,
                                    baseline: float | None) -> bool:
    """Activate ``version`` if its accuracy is at least ``baseline``; True when it became active.

    ``baseline`` is the active version's accuracy measured on the same test images in the same run: the
    accuracy stored with a checkpoint may come from a different test subset.
    """
    if baseline is not None and accuracy < baseline:
        return False
    model_version_activate(version=version)
    return True
