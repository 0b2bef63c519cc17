"""Staff see every model version and experiment run; activation is an explicit action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from web.errors import ApplicationError
from web.registry.models import ExperimentRun, ModelVersion
from web.registry.services import (
    TRAIN_DEFAULTS,
    experiment_run_enqueue,
    model_version_activate,
    train_params,
)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "family", "is_active", "accuracy", "created"]
    list_filter = ["is_active", "family"]
    readonly_fields = ["sha256", "family", "config", "metrics", "preprocess_signature", "training",
                       "is_active", "created", "checkpoint"]
    actions = ["activate"]

    def has_add_permission(self, request) -> bool:
        return False  # versions come from retrains or `manage.py register_model`, which check the file
    @admin.display(description="accuracy")
    def accuracy(self, obj: ModelVersion) -> str:
        value = obj.metrics.get("accuracy")
        return f"{value:.2%}" if isinstance(value, (int, float)) else "—"

    @admin.action(description="Make the selected version the active one")
    def activate(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        version = model_version_activate(version=queryset.get())
        self.message_user(request, f"{version.name} is now active; workers switch on their next task.")


class ExperimentRunForm(forms.ModelForm):
    class Meta:
        model = ExperimentRun
        fields = ["params"]

    def clean_params(self) -> dict:
        try:
            return train_params(self.cleaned_data["params"])
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc


@admin.register(ExperimentRun)
class ExperimentRunAdmin(admin.ModelAdmin):
    """Adding a run starts a retrain on the training queue; its progress and log fill in as it runs."""

    form = ExperimentRunForm
    list_display = ["id", "kind", "status", "progress_percent", "model_version", "created", "finished"]
    list_filter = ["kind", "status"]
    readonly_fields = ["kind", "status", "progress", "log", "results", "artifacts", "error", "model_version",
                       "created_by", "created", "started", "finished"]

    @admin.display(description="progress")
    def progress_percent(self, obj: ExperimentRun) -> str:
        return f"{obj.progress:.0%}"

    def get_readonly_fields(self, request, obj=None):
        # On the add form only the parameters are editable; afterwards the run is a record.
        return [f for f in self.readonly_fields if f != "params"] if obj is None else \
            self.readonly_fields + ["params"]

    def get_changeform_initial_data(self, request):
        return {"params": {k: v for k, v in TRAIN_DEFAULTS.items() if k != "seed"}}

    def save_model(self, request, obj: ExperimentRun, form, change: bool) -> None:
        if change:
            return super().save_model(request, obj, form, change)
        obj.kind, obj.created_by = ExperimentRun.Kind.TRAIN, request.user
        super().save_model(request, obj, form, change)
        experiment_run_enqueue(run=obj)
