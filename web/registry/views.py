"""The research as pages: Experiments (benchmark and ablation results) and Model (the active version).

Both are public, like the thesis they reproduce. Figures and tables are streamed from storage (a run's
artifacts) or from docs/results (the committed study) by views that serve only the files they list.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET

from ml.study.thesis import THESIS_TEST_SECONDS, THESIS_TRAIN_SECONDS_PER_EPOCH
from web.registry import presenters
from web.registry.models import ExperimentRun
from web.registry.selectors import (
    experiment_run_get,
    experiment_run_latest_done,
    model_version_active,
    model_version_get,
    model_version_list_served,
)

# A finished run's files never change; committed ones change only with a deploy.
RUN_FILE_MAX_AGE = 7 * 24 * 3600
COMMITTED_FILE_MAX_AGE = 3600
CONFUSION_MAX_AGE = 24 * 3600


@require_GET
def experiments_page(request: HttpRequest) -> HttpResponse:
    sections = {}
    for kind in (ExperimentRun.Kind.BENCHMARK, ExperimentRun.Kind.ABLATE):
        run = experiment_run_latest_done(kind=kind)
        sections[kind] = presenters.study_from_run(run) if run else presenters.study_from_committed(kind)
    return render(request, "registry/experiments.html", {
        "benchmark": sections[ExperimentRun.Kind.BENCHMARK], "ablation": sections[ExperimentRun.Kind.ABLATE],
        "thesis_machine": _("an AMD Ryzen 7 4800H laptop"),
        "thesis_train_per_epoch": THESIS_TRAIN_SECONDS_PER_EPOCH, "thesis_test_seconds": THESIS_TEST_SECONDS,
    })


@require_GET
def experiment_file(request: HttpRequest, run_id: int, name: str) -> FileResponse:
    """A plot or table of a finished run, by its file name among the run's artifacts."""
    run = experiment_run_get(run_id=run_id)
    if run is None or run.status != ExperimentRun.Status.DONE:
        raise Http404("no such finished run")
    stored = {Path(a).name: a for a in run.artifacts}.get(name)
    if stored is None or not default_storage.exists(stored):
        raise Http404("no such file")
    return _file(default_storage.open(stored, "rb"), name, RUN_FILE_MAX_AGE)


@require_GET
def committed_file(request: HttpRequest, folder: str, name: str) -> FileResponse:
    """A plot or table of the study committed under docs/results/<folder>/."""
    kind = {v: k for k, v in presenters.COMMITTED.items()}.get(folder)
    path = presenters.committed_files(kind).get(name) if kind else None
    if path is None:
        raise Http404("no such file")
    return _file(path.open("rb"), name, COMMITTED_FILE_MAX_AGE)


def _file(handle, name: str, max_age: int) -> FileResponse:
    content_type = {".md": "text/markdown; charset=utf-8", ".json": "application/json"}.get(
        Path(name).suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    patch_cache_control(response, public=True, max_age=max_age)
    return response


@require_GET
def model_page(request: HttpRequest) -> HttpResponse:
    active = model_version_active()
    return render(request, "registry/model.html", {
        "card": presenters.model_card(active) if active else None,
        "versions": presenters.version_history(model_version_list_served()),
    })


def _confusion_etag(request: HttpRequest, version_id: int) -> str | None:
    # A version's metrics never change after it is registered, so its checksum names the picture.
    version = model_version_get(version_id=version_id)
    return f"cm2-{version.sha256}" if version else None


@require_GET
@condition(etag_func=_confusion_etag)
def confusion_image(request: HttpRequest, version_id: int) -> HttpResponse:
    """The version's MNIST confusion matrix as a PNG, rendered with matplotlib from its metrics."""
    version = model_version_get(version_id=version_id)
    if version is None or not version.metrics.get("confusion_matrix"):
        raise Http404("no confusion matrix for this version")
    response = HttpResponse(presenters.confusion_png(version), content_type="image/png")
    patch_cache_control(response, public=True, max_age=CONFUSION_MAX_AGE)
    return response
