"""Reads for the model lifecycle."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from web.registry.models import ExperimentRun, ModelVersion


def model_version_active() -> ModelVersion | None:
    """The version new uploads are read with, or None before any is registered."""
    return ModelVersion.objects.filter(is_active=True).first()


def model_version_active_id() -> int | None:
    """Just the id: a worker checks it before every task to notice a newly activated version cheaply."""
    return ModelVersion.objects.filter(is_active=True).values_list("id", flat=True).first()


def experiment_run_get(*, run_id: int) -> ExperimentRun | None:
    return ExperimentRun.objects.filter(id=run_id).first()


def experiment_run_open(*, kind: str) -> ExperimentRun | None:
    """The queued or running run of ``kind``, if any (benchmarks and ablations run one at a time)."""
    return ExperimentRun.objects.filter(kind=kind, status__in=ExperimentRun.OPEN).order_by("created").first()


def experiment_run_latest_done(*, kind: str) -> ExperimentRun | None:
    """The newest finished run of ``kind`` with results: what the Experiments page shows."""
    return ExperimentRun.objects.filter(kind=kind, status=ExperimentRun.Status.DONE) \
        .exclude(results={}).order_by("-finished", "-created").first()


def model_version_list():
    """Every version, newest first (the admin lists them all)."""
    return ModelVersion.objects.order_by("-created", "-id")


def model_version_list_served():
    """The versions a visitor's uploads may have been read with, newest first: the Model page's history.

    The active one, and every one that read an upload here. A dry run or any retrain that was not
    promoted never read anything, so it stays among staff's records in the admin.
    """
    uploads = ModelVersion._meta.get_field("uploads").related_model.objects  # web.uploads' Upload
    read_some = Exists(uploads.filter(model_version=OuterRef("pk")))
    return ModelVersion.objects.filter(Q(is_active=True) | read_some).order_by("-created", "-id")


def model_version_get(*, version_id: int) -> ModelVersion | None:
    return ModelVersion.objects.filter(id=version_id).first()


def experiment_runs_timed(*, recipe: str, count: int) -> list[ExperimentRun]:
    """The last ``count`` finished retrains (not dry runs) with ``recipe`` that recorded their timing."""
    return list(ExperimentRun.objects.filter(
        kind=ExperimentRun.Kind.TRAIN, status=ExperimentRun.Status.DONE, params__recipe=recipe,
        params__dry_run=False, results__has_key="fit_seconds").order_by("-finished", "-id")[:count])
