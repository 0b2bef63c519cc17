"""Reads for the model lifecycle."""

from __future__ import annotations

from web.registry.models import ExperimentRun, ModelVersion


def model_version_active() -> ModelVersion | None:
    """The version new uploads are read with, or None before any is registered."""
    return ModelVersion.objects.filter(is_active=True).first()


def model_version_active_id() -> int | None:
    """Just the id: a worker checks it before every task to notice a newly activated version cheaply."""
    return ModelVersion.objects.filter(is_active=True).values_list("id", flat=True).first()


def experiment_run_get(*, run_id: int) -> ExperimentRun | None:
    return ExperimentRun.objects.filter(id=run_id).first()
