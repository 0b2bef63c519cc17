"""Writes for the model lifecycle: register a checkpoint as a ModelVersion, choose the active one."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ml.paths import DEFAULT_CHECKPOINT, mnist_folder
from web.celery import RUN_ABLATION, RUN_BENCHMARK, TRAIN_MODEL, enqueue
from web.errors import ApplicationError
from web.registry.estimate import retrain_estimate
from web.registry.models import ExperimentRun, ModelVersion
from web.registry.params import TRAIN_DEFAULTS, run_params, train_params  # noqa: F401 - re-exported
from web.registry.promotion import Decision, Score, decide
from web.registry.selectors import experiment_run_open, model_version_active


def default_checkpoint_path() -> Path:
    """The checkpoint registered first: ``DIGITSCAN_DEFAULT_CHECKPOINT`` or the one shipped with ml."""
    return Path(settings.DIGITSCAN_DEFAULT_CHECKPOINT or DEFAULT_CHECKPOINT)


def model_version_register(*, path: Path, activate: bool = False, name: str | None = None) -> ModelVersion:
    """Copy the checkpoint at ``path`` into storage and record it; the same bytes give the same row.

    The checkpoint is loaded first, so a file that ml cannot use (wrong format, preprocessing signature
    mismatch) raises ``ml.models.checkpoint.CheckpointError`` and is never registered.
    """
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    existing = ModelVersion.objects.filter(sha256=digest).first()
    if existing is None:
        meta = _checkpoint_meta(path)
        existing = _create_version(data=data, digest=digest, meta=meta, name=name or Path(path).stem)
    if activate and not existing.is_active:
        model_version_activate(version=existing)
    return existing


def _checkpoint_meta(path: Path) -> dict:
    """The description stored in the checkpoint at ``path``, after ml has rebuilt the model from it.

    Imported here, not at the top: loading a checkpoint needs torch, and only the processes that
    register models (workers, ``manage.py register_model``) call this; the site's web processes never
    load torch (tests/test_structure.py checks that).
    """
    from ml.models.checkpoint import load_checkpoint

    return load_checkpoint(path).meta


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


# --- experiment runs (retrain, benchmark, ablation) -----------------------------------------------


def experiment_run_create(*, kind: str = ExperimentRun.Kind.TRAIN, params: dict | None = None,
                          created_by=None) -> ExperimentRun:
    """Record a run of ``kind`` and queue it on the ``training`` queue once the transaction commits.

    :class:`ApplicationError` for parameters the kind does not take (``bad_params``) and, for a benchmark
    or ablation, while another run of that kind is queued or running (``busy``).
    """
    run = ExperimentRun(kind=kind, params=run_params(kind, params), created_by=created_by)
    return experiment_run_submit(run=run)


def experiment_run_submit(*, run: ExperimentRun) -> ExperimentRun:
    """Save the new, unsaved ``run`` (its params already checked) and queue it after the commit; a retrain
    records its estimated duration as it is queued."""
    if run.kind == ExperimentRun.Kind.TRAIN and not run.estimate:
        run.estimate = retrain_estimate(params=run.params).as_dict()
    with transaction.atomic():
        experiment_run_refuse_if_busy(kind=run.kind)
        try:
            with transaction.atomic():
                run.save()
        except IntegrityError:
            # Another start won the race between our check and our insert (registry_one_open_run_per_kind).
            raise _busy(run.kind, experiment_run_open(kind=run.kind)) from None
        experiment_run_enqueue(run=run)
    return run


def experiment_run_refuse_without_mnist() -> None:
    """:class:`ApplicationError` ``no_mnist`` when no copy of MNIST is where the training worker looks
    (``ml.paths.mnist_places``): every kind of run trains on it, and would otherwise fail minutes later.

    The site and the training worker share a machine here (deploy/start.sh); at scale each worker needs
    MNIST too, and a run that still cannot find it fails with a sentence saying so.
    """
    if mnist_folder() is None:
        raise ApplicationError("no_mnist", _(
            "MNIST is not on this server, and every run trains on it: put its four files (optionally "
            "gzipped) in a folder, set MNIST_DIR to that folder for the training worker and the site, "
            "restart them, then start the run again"))


def experiment_run_refuse_if_busy(*, kind: str) -> None:
    """:class:`ApplicationError` ``busy`` while a benchmark or ablation of ``kind`` is queued or running."""
    if kind in ExperimentRun.ONE_AT_A_TIME and (other := experiment_run_open(kind=kind)) is not None:
        raise _busy(kind, other)


def _busy(kind: str, other: ExperimentRun | None) -> ApplicationError:
    what = _("#%(id)s, %(status)s since %(when)s UTC") % {
        "id": other.pk, "status": other.get_status_display(),
        "when": f"{other.started or other.created:%Y-%m-%d %H:%M}"} if other is not None \
        else _("started a moment ago")
    message = (_("an ablation run is already queued or running (%(what)s); they run one at a time: wait for "
                 "it to finish, or mark it failed if its worker is gone") if kind == ExperimentRun.Kind.ABLATE
               else _("a benchmark run is already queued or running (%(what)s); they run one at a time: wait "
                      "for it to finish, or mark it failed if its worker is gone"))
    return ApplicationError("busy", message % {"what": what})


# The task that runs each kind of ExperimentRun, by name (web.celery).
RUN_TASKS = {ExperimentRun.Kind.TRAIN: TRAIN_MODEL, ExperimentRun.Kind.ABLATE: RUN_ABLATION,
             ExperimentRun.Kind.BENCHMARK: RUN_BENCHMARK}


def experiment_run_enqueue(*, run: ExperimentRun) -> None:
    """Queue ``run`` on the training queue once the transaction commits."""
    transaction.on_commit(lambda: enqueue(RUN_TASKS[run.kind], run.id))


def experiment_run_start(*, run_id: int) -> ExperimentRun | None:
    """queued (or, for a retrain, running after its worker died) → running; None when it finished already
    or, for a benchmark or ablation, is running already.

    Benchmarks and ablations are acknowledged on receipt and never redelivered (worker.tasks), so a second
    message for one that is running is a duplicate, not a restart: running it would train it twice.
    """
    with transaction.atomic():
        run = ExperimentRun.objects.select_for_update().filter(id=run_id).first()
        if run is None or run.status in (ExperimentRun.Status.DONE, ExperimentRun.Status.FAILED):
            return None
        if run.kind in ExperimentRun.ONE_AT_A_TIME and run.status == ExperimentRun.Status.RUNNING:
            return None
        now = timezone.now()
        run.status, run.started, run.heartbeat, run.progress = ExperimentRun.Status.RUNNING, now, now, 0.0
        run.save(update_fields=["status", "started", "heartbeat", "progress"])
    return run


def experiment_run_report(*, run_id: int, progress: float | None = None, line: str = "") -> None:
    """Move the progress bar and/or append a line to the run's log (as staff see it in the admin).

    Every report is also the run's heartbeat: the write happens anyway, and jobs report at most about
    once a second (worker.experiments), so the heartbeat costs no extra query.
    """
    run = ExperimentRun.objects.get(id=run_id)
    if progress is not None:
        run.progress = max(0.0, min(1.0, progress))
    if line:
        run.log += f"{timezone.now():%H:%M:%S} {line}\n"
    run.heartbeat = timezone.now()
    run.save(update_fields=["progress", "log", "heartbeat"])


def experiment_run_finish(*, run_id: int, results: dict, version: ModelVersion | None = None,
                          artifacts: list[str] | None = None) -> ExperimentRun:
    run = ExperimentRun.objects.get(id=run_id)
    run.status, run.progress, run.finished = ExperimentRun.Status.DONE, 1.0, timezone.now()
    run.results, run.model_version = _json_safe(results), version
    run.artifacts = artifacts if artifacts is not None else run.artifacts
    run.save(update_fields=["status", "progress", "finished", "results", "model_version", "artifacts"])
    return run


def experiment_run_fail(*, run_id: int, error: str) -> None:
    ExperimentRun.objects.filter(id=run_id).update(status=ExperimentRun.Status.FAILED, error=error,
                                                   finished=timezone.now())


def experiment_run_reap_stale(*, older_than: dt.timedelta) -> list[int]:
    """Fail the benchmark and ablation runs still "running" whose worker has not reported for
    ``older_than`` (it died: such runs are never delivered again); the ids failed.

    Failing one frees its kind, so staff (or the next schedule) can start it again. A run with no heartbeat
    (started before there was one, or set running by hand) counts from its start, else its creation.
    """
    now = timezone.now()
    cutoff = now - older_than
    stale = (Q(heartbeat__lt=cutoff) | Q(heartbeat__isnull=True, started__lt=cutoff)
             | Q(heartbeat__isnull=True, started__isnull=True, created__lt=cutoff))
    running = ExperimentRun.objects.filter(kind__in=ExperimentRun.ONE_AT_A_TIME,
                                           status=ExperimentRun.Status.RUNNING)
    reaped = []
    for run in running.filter(stale):
        seen = (run.heartbeat or run.started or run.created).astimezone(dt.UTC)
        minutes = (now - seen).total_seconds() / 60
        error = (f"the worker stopped reporting at {seen:%Y-%m-%d %H:%M} UTC ({minutes:.0f} minutes before "
                 f"this check) — it probably died; start the run again")
        # The same conditions again in the update: a report that arrived since the read keeps it running.
        if running.filter(stale, id=run.id).update(status=ExperimentRun.Status.FAILED, error=error,
                                                   finished=now):
            reaped.append(run.id)
    return reaped


def experiment_run_abandon(*, run: ExperimentRun) -> bool:
    """Mark a queued or running run failed by hand (its worker is gone); True if it was open."""
    return bool(ExperimentRun.objects.filter(id=run.id, status__in=ExperimentRun.OPEN).update(
        status=ExperimentRun.Status.FAILED, finished=timezone.now(),
        error="marked failed by staff: its worker was gone or it was no longer wanted"))


# The files a benchmark or ablation writes that the site shows or offers: plots, tables, raw results.
ARTIFACT_SUFFIXES = (".png", ".md", ".json")


def experiment_run_store_files(*, run_id: int, folder: Path) -> list[str]:
    """Copy the plots and tables in ``folder`` to default storage; their storage names, sorted.

    Each run has its own prefix and fixed names, so a second delivery of the same run replaces its
    files instead of adding ``_abc123`` copies beside them.
    """
    names = []
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file() or path.suffix not in ARTIFACT_SUFFIXES:
            continue
        name = f"experiments/run-{run_id}/{path.name}"
        if default_storage.exists(name):
            default_storage.delete(name)
        with path.open("rb") as f:
            names.append(default_storage.save(name, File(f, name=path.name)))
    return names


def model_version_promote_if_better(*, version: ModelVersion, mnist_new: Score, mnist_active: Score | None,
                                    held_new: Score, held_active: Score | None) -> Decision:
    """Activate ``version`` if it beats the active one by the rule of :mod:`web.registry.promotion`.

    The scores come from the same run, on the same images for both models: the accuracy stored with a
    checkpoint may come from a different test subset. The decision (with its reason) is returned for
    the run to record.
    """
    decision = decide(mnist_new=mnist_new, mnist_active=mnist_active, held_new=held_new,
                      held_active=held_active)
    if decision.promoted:
        model_version_activate(version=version)
    return decision
