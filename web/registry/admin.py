"""Staff see every model version and experiment run; activation is an explicit action.

Runs are started here: *Experiment runs → Add* queues a retrain, *Benchmark runs → Add* the six-family
comparison and *Ablation runs → Add* the CNN ablations, each with its parameters in a form.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ml.models.config import FAMILIES
from ml.study.thesis import FAMILY_NAMES
from web.errors import ApplicationError
from web.registry.labels import FAMILY_LABELS, STUDY_LABELS
from web.registry.models import AblationRun, BenchmarkRun, ExperimentRun, ModelVersion
from web.registry.params import (
    ABLATION_DEFAULTS,
    BENCHMARK_DEFAULTS,
    STUDIES,
    ablation_params,
    benchmark_params,
)
from web.registry.services import (
    TRAIN_DEFAULTS,
    experiment_run_abandon,
    experiment_run_refuse_if_busy,
    experiment_run_submit,
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
    @admin.display(description=gettext_lazy("accuracy"))
    def accuracy(self, obj: ModelVersion) -> str:
        value = obj.metrics.get("accuracy")
        return f"{value:.2%}" if isinstance(value, (int, float)) else "—"

    @admin.action(description=gettext_lazy("Make the selected version the active one"))
    def activate(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version to activate."), messages.ERROR)
            return
        version = model_version_activate(version=queryset.get())
        self.message_user(request, _("%(name)s is now active; workers switch on their next task.")
                          % {"name": version.name})


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
    kind = ExperimentRun.Kind.TRAIN  # what the add form starts
    list_display = ["id", "kind", "status", "progress_percent", "model_version", "created", "finished"]
    list_filter = ["kind", "status"]
    readonly_fields = ["kind", "status", "progress", "log", "results", "artifacts", "error", "model_version",
                       "created_by", "created", "started", "heartbeat", "finished"]
    actions = ["abandon"]

    @admin.display(description=gettext_lazy("progress"))
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
        obj.kind, obj.created_by = self.kind, request.user
        obj.params = getattr(form, "params", obj.params)
        experiment_run_submit(run=obj)  # saved, and queued once this request's transaction commits

    @admin.action(description=gettext_lazy("Mark the selected queued or running runs failed (their worker is "
                                           "gone)"))
    def abandon(self, request, queryset) -> None:
        count = sum(experiment_run_abandon(run=run) for run in queryset)
        self.message_user(request, ngettext(
            "%(count)d run marked failed; a new one of its kind may start now.",
            "%(count)d runs marked failed; a new one of their kind may start now.", count) % {"count": count})


class StudyRunForm(forms.ModelForm):
    """Typed fields for a benchmark or ablation; ``clean`` turns them into the run's checked params."""

    kind: str
    check: Callable[[dict], dict]  # the kind's params check (web.registry.params)

    class Meta:
        model = ExperimentRun
        fields: list[str] = []

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.params = self.check({name: data[name] for name in self.declared_fields})
            experiment_run_refuse_if_busy(kind=self.kind)
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc
        return data


class BenchmarkRunForm(StudyRunForm):
    kind = ExperimentRun.Kind.BENCHMARK
    check = staticmethod(benchmark_params)
    families = forms.MultipleChoiceField(
        label=gettext_lazy("families"),
        choices=[(f, format_lazy("{}: {}", f, FAMILY_LABELS.get(f, FAMILY_NAMES[f]))) for f in FAMILIES],
        initial=BENCHMARK_DEFAULTS["families"], widget=forms.CheckboxSelectMultiple)
    epochs = forms.IntegerField(label=gettext_lazy("epochs"), min_value=1, required=False,
                                help_text=gettext_lazy("blank: each family's own epochs"))
    limit = forms.IntegerField(
        label=gettext_lazy("limit"), min_value=1, required=False, help_text=gettext_lazy(
            "train on a random subset of this many MNIST images and test on a fifth as many (at least 200); "
            "blank: all 60,000 and 10,000 (the whole comparison takes about half an hour on 2 cores)"))
    seed = forms.IntegerField(label=gettext_lazy("seed"), initial=BENCHMARK_DEFAULTS["seed"])
    dry_run = forms.BooleanField(label=gettext_lazy("dry run"), required=False,
                                 help_text=gettext_lazy("two batches per family: checks the pipeline"))


class AblationRunForm(StudyRunForm):
    kind = ExperimentRun.Kind.ABLATE
    check = staticmethod(ablation_params)
    studies = forms.MultipleChoiceField(
        label=gettext_lazy("studies"),
        choices=[(s, format_lazy("{}: {}", s, STUDY_LABELS.get(s, s))) for s in STUDIES],
        initial=ABLATION_DEFAULTS["studies"], widget=forms.CheckboxSelectMultiple)
    epochs = forms.IntegerField(label=gettext_lazy("epochs"), min_value=1,
                                initial=ABLATION_DEFAULTS["epochs"])
    seeds = forms.IntegerField(label=gettext_lazy("seeds"), min_value=1, initial=ABLATION_DEFAULTS["seeds"],
                               help_text=gettext_lazy("each variant is trained this many times, seeds seed0, "
                                                      "seed0 + 1, …"))
    limit = forms.IntegerField(label=gettext_lazy("limit"), min_value=1, required=False,
                               help_text=gettext_lazy("train on this many MNIST images; blank: all 60,000"))
    seed0 = forms.IntegerField(label=gettext_lazy("first seed"), initial=ABLATION_DEFAULTS["seed0"])
    dry_run = forms.BooleanField(label=gettext_lazy("dry run"), required=False,
                                 help_text=gettext_lazy("two batches per model: checks the pipeline"))


class StudyRunAdmin(ExperimentRunAdmin):
    """One kind's runs; the add form asks for that kind's parameters field by field."""

    list_filter = ["status"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=self.kind)

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(self.form.declared_fields)
        return ["params", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["params", *self.readonly_fields]

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm  # a finished or running run is a record: nothing to edit
        return super().get_form(request, obj, **kwargs)

    def get_changeform_initial_data(self, request):
        return {}


@admin.register(BenchmarkRun)
class BenchmarkRunAdmin(StudyRunAdmin):
    form = BenchmarkRunForm
    kind = ExperimentRun.Kind.BENCHMARK


@admin.register(AblationRun)
class AblationRunAdmin(StudyRunAdmin):
    form = AblationRunForm
    kind = ExperimentRun.Kind.ABLATE
