"""ModelVersion: a checkpoint in storage that workers can read with; ExperimentRun: a training, benchmark
or ablation job (BenchmarkRun and AblationRun are its admin's views of one kind each)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from web.status import JobStatus


class ModelVersion(models.Model):
    """A self-describing ml checkpoint kept in default storage; exactly one row is active at a time."""

    name = models.CharField(_("name"), max_length=200)
    checkpoint = models.FileField(_("checkpoint"), upload_to="models/", max_length=300)
    # sha256 of the checkpoint bytes: registering the same file twice finds the existing row.
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    family = models.CharField(_("family"), max_length=32)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    preprocess_signature = models.CharField(_("preprocessing signature"), max_length=128)
    training = models.JSONField(_("training"), default=dict, blank=True,
                                help_text=_("how it was trained (data, command)"))
    is_active = models.BooleanField(_("active"), default=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [
            # The database itself refuses a second active version; services switch inside a transaction.
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True),
                                    name="registry_one_active_model_version"),
        ]

    def __str__(self) -> str:
        accuracy = self.metrics.get("accuracy")
        suffix = f" ({accuracy:.2%})" if isinstance(accuracy, (int, float)) else ""
        text = f"{self.name}{suffix}"
        return gettext("%(version)s · active") % {"version": text} if self.is_active else text


class ExperimentRun(models.Model):
    """A training, benchmark or ablation job: what was asked, how far it got, and what came out."""

    class Kind(models.TextChoices):
        TRAIN = "train", _("retrain")
        BENCHMARK = "benchmark", _("benchmark")
        ABLATE = "ablate", _("ablation")

    Status = JobStatus

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    progress = models.FloatField(_("progress"), default=0.0, help_text=_("0 to 1"))
    log = models.TextField(_("log"), blank=True)
    results = models.JSONField(_("results"), default=dict, blank=True)
    artifacts = models.JSONField(_("files"), default=list, blank=True,
                                 help_text=_("storage names of plots and tables"))
    error = models.TextField(_("error"), blank=True)
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="runs", verbose_name=_("model version"),
                                      help_text=_("the version this run registered"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", verbose_name=_("started by"))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    # When the worker last reported (start, progress, a log line). Benchmarks and ablations are never
    # delivered twice, so a dead worker's run would stay "running" for good: the reaper fails those whose
    # heartbeat is older than DIGITSCAN_RUN_STALE_AFTER_S.
    heartbeat = models.DateTimeField(_("last heartbeat"), null=True, blank=True,
                                     help_text=_("when the worker last reported"))
    # A retrain's estimated duration when it was queued, and the measured figures it rests on
    # (web.registry.estimate.Estimate.as_dict); {} for other kinds.
    estimate = models.JSONField(_("estimate"), default=dict, blank=True)

    # Kinds of which at most one run may be queued or running: each takes the training worker for an
    # hour or more, and a second one queued behind it would only measure the same code again.
    ONE_AT_A_TIME = (Kind.BENCHMARK, Kind.ABLATE)
    OPEN = (JobStatus.QUEUED, JobStatus.RUNNING)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("experiment run")
        verbose_name_plural = _("experiment runs")
        constraints = [
            # The services check first and say why; this refuses the second of two simultaneous starts.
            models.UniqueConstraint(
                fields=["kind"], name="registry_one_open_run_per_kind",
                condition=models.Q(kind__in=["benchmark", "ablate"], status__in=["queued", "running"])),
        ]

    def __str__(self) -> str:
        # In the reader's language (the admin's titles, lists and messages): made when shown.
        return gettext("%(kind)s #%(id)s (%(status)s)") % {"kind": self.get_kind_display(), "id": self.pk,
                                                          "status": self.get_status_display()}


class BenchmarkRun(ExperimentRun):
    """Benchmark runs only: the six-family comparison (the admin's "Benchmark runs")."""

    class Meta:
        proxy = True
        verbose_name = _("benchmark run")
        verbose_name_plural = _("benchmark runs")


class AblationRun(ExperimentRun):
    """Ablation runs only: the CNN ablation studies (the admin's "Ablation runs")."""

    class Meta:
        proxy = True
        verbose_name = _("ablation run")
        verbose_name_plural = _("ablation runs")
