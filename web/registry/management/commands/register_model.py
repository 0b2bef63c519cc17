"""``python manage.py register_model CHECKPOINT [--activate]``: add a trained checkpoint as a ModelVersion."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ml.models.checkpoint import CheckpointError
from web.registry.services import model_version_activate, model_version_register


class Command(BaseCommand):
    help = "Register an ml checkpoint as a model version (copied into storage); optionally activate it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("checkpoint", type=Path, help="a file written by `python -m ml train`")
        parser.add_argument("--activate", action="store_true", help="make it the active version now")

    def handle(self, *args, checkpoint: Path, activate: bool, **options) -> None:
        try:
            version = model_version_register(path=checkpoint)
        except (OSError, CheckpointError) as exc:
            raise CommandError(str(exc)) from exc
        if activate:
            version = model_version_activate(version=version)
        accuracy = version.metrics.get("accuracy")
        self.stdout.write(f"model version {version.pk}: {version.name}"
                          f"{f', accuracy {accuracy:.2%}' if isinstance(accuracy, float) else ''}"
                          f"{', active' if version.is_active else ''}")
