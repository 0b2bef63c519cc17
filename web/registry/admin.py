"""Staff see every model version and experiment run; activation is an explicit action.

Runs are started here: *Experiment runs → Add* queues a retrain (with its estimated duration shown as the
fields change), *Benchmark runs → Add* the six-family comparison and *Ablation runs → Add* the CNN
ablations, each with its parameters in a form. A run's page and the lists show its progress, refreshed
by a small script (``static/registry/runs.js``) polling staff-only JSON while it is queued or running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ml.models.config import FAMILIES
from ml.study.thesis import FAMILY_NAMES
from ml.training.recipes import recipe_train_config
from web.errors import ApplicationError
from web.registry import log_words, run_pages, run_views
from web.registry.config_words import model_config_table
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
    experiment_run_refuse_without_mnist,
    experiment_run_submit,
    model_version_activate,
    train_params,
)
from web.registry.study_words import setting_words
from web.registry.words import version_data_text, version_training_text


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """A version as a record in words: how it was trained and how it reads MNIST, never the paths of the
    machine that trained it (the raw training description holds them)."""

    list_display = ["name", "family", "is_active", "accuracy", "trained", "created"]
    list_filter = ["is_active", "family"]
    fields = ["name", "family", "is_active", "public", "accuracy", "trained", "training_data", "per_class",
              "config_table", "signature", "stored", "sha256", "created"]
    readonly_fields = ["family", "is_active", "public", "accuracy", "trained", "training_data", "per_class",
                       "config_table", "signature", "stored", "sha256", "created"]
    actions = ["activate"]

    @admin.display(description=_("on the public Model page"))
    def public(self, obj: ModelVersion) -> str:
        read = obj.uploads.count()
        if read:
            return ngettext("yes: it read %(n)d upload", "yes: it read %(n)d uploads", read) % {"n": read}
        if obj.is_active:
            return _("yes: it is the active version")
        return _("no: it never read an upload (a dry run, or a retrain that was not promoted)")

    @admin.display(description=_("configuration"))
    def config_table(self, obj: ModelVersion) -> str:
        return model_config_table(obj.config)

    @admin.display(description=_("preprocessing signature"))
    def signature(self, obj: ModelVersion) -> str:
        return format_html("<code>{}</code><br><small>{}</small>", obj.preprocess_signature or "—", _(
            "A fingerprint of how digit crops are turned into the 28×28 images this model was trained on "
            "(scaling, centring, deskewing). Loading a checkpoint whose fingerprint differs from the "
            "reader's fails at once, instead of reading digits subtly wrong."))

    def has_add_permission(self, request) -> bool:
        return False  # versions come from retrains or `manage.py register_model`, which check the file
    @admin.display(description=_("accuracy"))
    def accuracy(self, obj: ModelVersion) -> str:
        value = obj.metrics.get("accuracy")
        return f"{value:.2%}" if isinstance(value, (int, float)) else "—"

    @admin.display(description=_("how it was trained"))
    def trained(self, obj: ModelVersion) -> str:
        return version_training_text(obj.training)

    @admin.display(description=_("training data"))
    def training_data(self, obj: ModelVersion) -> str:
        return version_data_text(obj.training)

    @admin.display(description=_("MNIST test accuracy per digit"))
    def per_class(self, obj: ModelVersion) -> str:
        per_class = (obj.metrics or {}).get("per_class_accuracy") or []
        if not per_class:
            return "—"
        return render_to_string("admin/registry/_per_digit.html", {"rows": [
            {"digit": d, "accuracy": 100 * a} for d, a in enumerate(per_class)]})

    @admin.display(description=_("checkpoint"))
    def stored(self, obj: ModelVersion) -> str:
        try:
            size = obj.checkpoint.size
        except (OSError, ValueError):
            return _("missing from storage")
        return _("in storage, %(size)s") % {"size": filesizeformat(size)}

    @admin.action(description=_("Make the selected version the active one"))
    def activate(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version to activate."), messages.ERROR)
            return
        version = model_version_activate(version=queryset.get())
        self.message_user(request, _("%(name)s is now active; workers switch on their next task.")
                          % {"name": version.name})


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
            experiment_run_refuse_without_mnist()
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc
        return data


class BenchmarkRunForm(StudyRunForm):
    kind = ExperimentRun.Kind.BENCHMARK
    check = staticmethod(benchmark_params)
    families = forms.MultipleChoiceField(
        label=_("families"),
        choices=[(f, format_lazy("{}: {}", f, FAMILY_LABELS.get(f, FAMILY_NAMES[f]))) for f in FAMILIES],
        initial=BENCHMARK_DEFAULTS["families"], widget=forms.CheckboxSelectMultiple)
    epochs = forms.IntegerField(label=_("epochs"), min_value=1, required=False,
                                help_text=_("blank: each family's own epochs"))
    limit = forms.IntegerField(
        label=_("limit"), min_value=1, required=False, help_text=_(
            "train on a random subset of this many MNIST images and test on a fifth as many (at least 200); "
            "blank: all 60,000 and 10,000 (the whole comparison takes about half an hour on 2 cores)"))
    seed = forms.IntegerField(label=_("seed"), initial=BENCHMARK_DEFAULTS["seed"])
    dry_run = forms.BooleanField(label=_("dry run"), required=False,
                                 help_text=_("two batches per family: checks the pipeline"))


class AblationRunForm(StudyRunForm):
    kind = ExperimentRun.Kind.ABLATE
    check = staticmethod(ablation_params)
    studies = forms.MultipleChoiceField(
        label=_("studies"),
        choices=[(s, format_lazy("{}: {}", s, STUDY_LABELS.get(s, s))) for s in STUDIES],
        initial=ABLATION_DEFAULTS["studies"], widget=forms.CheckboxSelectMultiple)
    epochs = forms.IntegerField(label=_("epochs"), min_value=1,
                                initial=ABLATION_DEFAULTS["epochs"])
    seeds = forms.IntegerField(label=_("seeds"), min_value=1, initial=ABLATION_DEFAULTS["seeds"],
                               help_text=_("each variant is trained this many times, seeds seed0, "
                                                      "seed0 + 1, …"))
    limit = forms.IntegerField(label=_("limit"), min_value=1, required=False,
                               help_text=_("train on this many MNIST images; blank: all 60,000"))
    seed0 = forms.IntegerField(label=_("first seed"), initial=ABLATION_DEFAULTS["seed0"])
    dry_run = forms.BooleanField(label=_("dry run"), required=False,
                                 help_text=_("two batches per model: checks the pipeline"))


class RetrainForm(StudyRunForm):
    """A retrain's options (``web.registry.params.TRAIN_DEFAULTS``), field by field."""

    kind = ExperimentRun.Kind.TRAIN
    check = staticmethod(train_params)
    recipe = forms.ChoiceField(
        label=_("Recipe"), initial=TRAIN_DEFAULTS["recipe"],
        choices=[("served", _("served: the model DigitScan serves (not-a-digit output, augmentation)")),
                 ("thesis", _("thesis: the study's CNN, as the thesis trained it"))],
        help_text=_("how the CNN is built and trained"))
    epochs = forms.IntegerField(
        label=_("Epochs"), min_value=1, required=False,
        help_text=format_lazy(_("passes over the training images; blank: the recipe's own (served {served}, "
                                "thesis {thesis})"), served=recipe_train_config("served").epochs,
                              thesis=recipe_train_config("thesis").epochs))
    limit = forms.IntegerField(
        label=_("MNIST training images"), min_value=1, max_value=60_000, required=False,
        help_text=_("train on a random subset of this many of MNIST's 60,000 training images (chosen by the "
                    "seed); blank: all of them"))
    test_limit = forms.IntegerField(
        label=_("MNIST test images"), min_value=1, max_value=10_000, required=False,
        help_text=_("score both models on a random subset of this many of MNIST's 10,000 test images; blank: "
                    "all of them (500 on a dry run)"))
    seed = forms.IntegerField(label=_("Seed"), initial=TRAIN_DEFAULTS["seed"],
                              help_text=_("the same seed and options train the same model"))
    feedback = forms.BooleanField(
        label=_("Include accepted corrections"), required=False, initial=TRAIN_DEFAULTS["feedback"],
        help_text=_("add the digits of corrections staff accepted to the training images; the corrections of "
                    "one upload in four are held out instead, to judge the new model on"))
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False,
        help_text=_("two batches of one epoch: checks the pipeline in under 10 s on the project's 2-core "
                    "machine; the model is still scored on 500 test images and may be promoted by the same "
                    "rule"))


class RunAdmin(admin.ModelAdmin):
    """What every kind of run's admin shares: the typed add form, the record page with its live progress,
    and the staff-only JSON that page polls."""

    kind: str
    change_form_template = "admin/registry/run_change_form.html"
    change_list_template = "admin/registry/run_change_list.html"
    # No status column: the progress column says it, and keeps saying it as it changes.
    list_display = ["id", "kind", "progress_display", "model_version", "created", "finished"]
    list_filter = ["kind", "status"]
    readonly_fields = ["kind", "status", "log_shown", "results", "artifact_names", "failure", "model_version",
                       "created_by", "created", "started", "heartbeat", "finished"]
    actions = ["abandon"]

    @admin.display(description=_("progress"))
    def progress_display(self, obj: ExperimentRun) -> str:
        return render_to_string("admin/registry/_run_progress.html", {"p": run_pages.progress(obj)})

    @admin.display(description=_("log"))
    def log_shown(self, obj: ExperimentRun) -> str:
        """The worker's log, each line in the reader's language (``web.registry.log_words``)."""
        return render_to_string("admin/registry/_run_log.html", {"lines": log_words.log_lines(obj)})

    @admin.display(description=_("error"))
    def failure(self, obj: ExperimentRun) -> str:
        return log_words.error_text(obj) or "—"

    @admin.display(description=_("files"))
    def artifact_names(self, obj: ExperimentRun) -> str:
        return _(", ").join(Path(name).name for name in obj.artifacts) or "—"

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(self.form.declared_fields)
        if obj.kind == ExperimentRun.Kind.TRAIN:
            # The page's tables say what the params and results hold (runs from before the tables keep
            # their raw results).
            legacy = obj.results and "decision" not in obj.results
            return [f for f in self.readonly_fields if f != "artifact_names" and (f != "results" or legacy)]
        # A study's parameters in words, and its results where people read them (the Experiments page).
        return ["study_setting", *(f if f != "results" else "study_results" for f in self.readonly_fields)]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["params", "study_setting", "study_results", *self.readonly_fields]

    @admin.display(description=_("parameters"))
    def study_setting(self, obj: ExperimentRun) -> str:
        return setting_words(obj.kind, obj.results or {}, obj.params or {}, here=True)

    @admin.display(description=_("results"))
    def study_results(self, obj: ExperimentRun) -> str:
        if obj.status != ExperimentRun.Status.DONE:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("experiments"), _(
            "On the Experiments page while it is the latest finished run of its kind; always in its files "
            "below."))

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm  # a finished or running run is a record: nothing to edit
        return super().get_form(request, obj, **kwargs)

    def get_changeform_initial_data(self, request):
        return {}

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["progress_url"] = reverse(f"admin:{self._urlname('progress')}")
        context["start_label"] = START_LABELS[self.kind]
        if obj is None:
            try:  # said at once, not only when the form is sent
                experiment_run_refuse_without_mnist()
            except ApplicationError as exc:
                context["cannot_start"] = exc.message
        if obj is not None:
            context["run_page"] = run_pages.retrain_page(obj)
            failed = obj.status == ExperimentRun.Status.FAILED
            context["run_failure"] = log_words.error_text(obj) if failed else ""
        elif self.kind == ExperimentRun.Kind.TRAIN:
            context["estimate_url"] = reverse(f"admin:{self._urlname('estimate')}")
            context["estimate"] = run_views.estimate_answer(train_params({}))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        url = reverse(f"admin:{self._urlname('progress')}")
        return super().changelist_view(request, {**(extra_context or {}), "progress_url": url})

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("progress/", wrap(self.progress_view), name=self._urlname("progress")),
                path("estimate/", wrap(self.estimate_view), name=self._urlname("estimate")),
                *super().get_urls()]

    def _urlname(self, what: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{what}"

    def progress_view(self, request):
        """``?ids=3,4``: those runs' progress as JSON (staff with view permission only)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return run_views.progress_json(request, self.get_queryset(request))

    def estimate_view(self, request):
        """The add form's fields in the query → the retrain's estimated duration as JSON."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        return run_views.estimate_json(RetrainForm(data=request.GET))

    def save_model(self, request, obj: ExperimentRun, form, change: bool) -> None:
        if change:
            return super().save_model(request, obj, form, change)
        obj.kind, obj.created_by = self.kind, request.user
        obj.params = getattr(form, "params", obj.params)
        experiment_run_submit(run=obj)  # saved, and queued once this request's transaction commits

    def response_add(self, request, obj, post_url_continue=None):
        """To the new run's page, where its progress shows, saying it is queued (not Django's "added")."""
        self.message_user(request, _("%(run)s is queued: it starts as soon as the training worker is free, "
                                     "and this page follows it.") % {"run": obj}, messages.SUCCESS)
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                                            args=[obj.pk]))

    @admin.action(description=_("Mark the selected queued or running runs failed (their worker is gone)"))
    def abandon(self, request, queryset) -> None:
        count = sum(experiment_run_abandon(run=run) for run in queryset)
        self.message_user(request, ngettext(
            "%(count)d run marked failed; a new one of its kind may start now.",
            "%(count)d runs marked failed; a new one of their kind may start now.", count) % {"count": count})


# The add form's one button: what it does (a run is started, not a record saved).
START_LABELS = {ExperimentRun.Kind.TRAIN: _("Start the retrain"),
                ExperimentRun.Kind.BENCHMARK: _("Start the benchmark"),
                ExperimentRun.Kind.ABLATE: _("Start the ablation")}


@admin.register(ExperimentRun)
class ExperimentRunAdmin(RunAdmin):
    """Every run, of every kind; adding one starts a retrain on the training queue."""

    form = RetrainForm
    kind = ExperimentRun.Kind.TRAIN  # what the add form starts


class StudyRunAdmin(RunAdmin):
    """One kind's runs; the add form asks for that kind's parameters field by field."""

    list_filter = ["status"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=self.kind)


@admin.register(BenchmarkRun)
class BenchmarkRunAdmin(StudyRunAdmin):
    form = BenchmarkRunForm
    kind = ExperimentRun.Kind.BENCHMARK


@admin.register(AblationRun)
class AblationRunAdmin(StudyRunAdmin):
    form = AblationRunForm
    kind = ExperimentRun.Kind.ABLATE
