"""What the Experiments and Model pages show, shaped for their templates, and the confusion-matrix picture.

A study section is the same dict whether it comes from an ExperimentRun in the database or from the
results committed under ``docs/results/`` (the fallback before any run here): a date, a machine, the
parameters, tables and figure URLs.
"""

from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from ml.models.config import NOT_A_DIGIT, class_names
from ml.study.ablation.grid import STUDY_TITLES
from ml.study.ablation.report import difference_text, times
from ml.study.ablation.stats import compare_to_full
from ml.study.benchmark_report import seconds_per_epoch
from ml.study.thesis import FAMILY_NAMES, THESIS_ACCURACY, TOLERANCE
from web.registry.estimate import duration_text
from web.registry.labels import FAMILY_LABELS, STUDY_LABELS
from web.registry.models import ExperimentRun, ModelVersion
from web.registry.study_words import (
    ablation_chart,
    benchmark_chart,
    setting_words,
    timing_words,
    trained_on_words,
    variant_label,
)
from web.registry.words import recipe_name, version_data_text, version_training_text

# Where each kind's committed results live under DIGITSCAN_COMMITTED_RESULTS, and its table file.
COMMITTED = {ExperimentRun.Kind.BENCHMARK: "benchmark", ExperimentRun.Kind.ABLATE: "ablation"}
FILE_SUFFIXES = (".png", ".md", ".json")


def study_from_run(run: ExperimentRun) -> dict:
    """A finished benchmark or ablation run as a page section; figures are served from storage."""
    names = {Path(name).name: name for name in run.artifacts}
    files = [{"name": n, "url": reverse("experiment-file", args=[run.id, n])} for n in sorted(names)]
    return _section(run.kind, run.results, files, source="run", date=run.finished or run.created,
                    params=run.params, run=run)


def study_from_committed(kind: str) -> dict | None:
    """The results committed under docs/results/ for ``kind``, or None when there are none."""
    folder = committed_folder(kind)
    path = folder / "results.json"
    if not path.is_file():
        return None
    results = json.loads(path.read_text())
    files = [{"name": n, "url": reverse("experiment-committed-file", args=[COMMITTED[kind], n])}
             for n in sorted(committed_files(kind))]
    return _section(kind, results, files, source="committed", date=results.get("created"), params={})


def committed_folder(kind: str) -> Path:
    return Path(settings.DIGITSCAN_COMMITTED_RESULTS) / COMMITTED[kind]


def committed_files(kind: str) -> dict[str, Path]:
    """The committed plots and tables of ``kind`` by file name: the only files its view will serve."""
    folder = committed_folder(kind)
    if not folder.is_dir():
        return {}
    return {p.name: p for p in folder.iterdir() if p.is_file() and p.suffix in FILE_SUFFIXES}


def _section(kind: str, results: dict, files: list[dict], **extra) -> dict:
    params = extra.get("params") or {}
    section = {"kind": kind, "what": COMMITTED[kind], "results": results, "files": files, **extra,
               # In words: the recorded command and platform name the machine that ran it.
               "setting": setting_words(kind, results, params, here=extra["source"] == "run")}
    if kind == ExperimentRun.Kind.BENCHMARK:
        section["rows"] = benchmark_rows(results)
        section["chart"] = benchmark_chart(section["rows"])
    else:
        section["studies"] = ablation_studies(results)
        section["timing"] = timing_words(results)
    return section


def benchmark_rows(results: dict) -> list[dict]:
    """Rows in the layout of the thesis' Table 3.3: method, train time, test time, accuracy — and the
    thesis' accuracy beside ours."""
    rows = []
    for row in results.get("rows", []):
        family = row.get("family", "")
        thesis = THESIS_ACCURACY.get(family)
        accuracy = row.get("accuracy")
        rows.append({
            "family": family,
            "name": FAMILY_LABELS.get(family) or row.get("name") or FAMILY_NAMES.get(family, family),
            "train_seconds": row.get("train_seconds"), "test_seconds": row.get("test_seconds"),
            "train_seconds_per_epoch": seconds_per_epoch(row),
            "accuracy": accuracy, "thesis_accuracy": thesis,
            "delta": None if thesis is None or accuracy is None else round(accuracy - thesis, 2),
            # Judged here against the thesis' figures as they are now, not as a run stored them (runs
            # before 2026-12-04 stored figures 0.30 too high, and ⚠ with them).
            "meets_bar": thesis is None or accuracy is None or accuracy >= thesis - TOLERANCE,
        })
    return rows


def ablation_studies(results: dict) -> list[dict]:
    """One table per study (ml.study.ablation's results["studies"]), in the order they were run."""
    studies = []
    for study, rows in (results.get("studies") or {}).items():
        table = []
        if any("versus_full" not in row for row in rows):
            # Results stored before the comparison existed get it from their per-seed accuracies.
            rows = compare_to_full([dict(row) for row in rows])
        for row in rows:
            # Times from the quiet timing pass when the study has one, else the training runs' own.
            timed = row.get("timing") or {}
            seconds = times(row)
            table.append({
                "variant": row.get("variant"), "label": variant_label(study, row.get("variant") or ""),
                "reference": row.get("reference", False),
                "parameters": row.get("parameters"), "mflops": (row.get("flops") or 0) / 1e6,
                "train_seconds_per_epoch": seconds[0] if seconds else None,
                "test_seconds": seconds[1] if seconds else None,
                "train_ratio": timed.get("train_ratio"), "test_ratio": timed.get("test_ratio"),
                "accuracy_mean": row.get("accuracy_mean"), "accuracy_std": row.get("accuracy_std"),
                "seeds_done": row.get("seeds_done", 0), "difference": difference_text(row["versus_full"]),
            })
        studies.append({"study": study, "title": STUDY_LABELS.get(study) or STUDY_TITLES.get(study, study),
                        "rows": table, "chart": ablation_chart(table),
                        "timed": any(r["train_ratio"] is not None for r in table)})
    return studies


# --- the Model page --------------------------------------------------------------------------------

def model_card(version: ModelVersion) -> dict:
    """The facts of a version's model card: how it was trained and how it does on MNIST's test set."""
    training, metrics = version.training or {}, version.metrics or {}
    matrix = metrics.get("confusion_matrix")
    per_class = metrics.get("per_class_accuracy") or []
    classes = []
    for digit, accuracy in enumerate(per_class):
        row = matrix[digit] if matrix and digit < len(matrix) else None
        # The digit it is most often mistaken for: the largest count off the diagonal of its row.
        wrong = max(((n, j) for j, n in enumerate(row or []) if j != digit), default=(0, None))
        classes.append({"digit": digit, "accuracy": 100 * accuracy, "images": sum(row) if row else None,
                        "errors": (sum(row) - row[digit]) if row else None,
                        "confused_with": wrong[1] if wrong[0] else None, "confused_count": wrong[0]})
    accuracy = metrics.get("accuracy")
    return {
        "version": version, "family": version.family,
        "outputs": _("10 digits and “not a digit”") if version.config.get("reject") else _("10 digits"),
        # In words: the recorded command and data source name the training machine's files.
        "trained": version_training_text(training) if training else None,
        "recipe": recipe_name(training.get("recipe") or (training.get("params") or {}).get("recipe")),
        "train_time": duration_text(training["seconds"]) if training.get("seconds") else None,
        "machine": trained_on_words(training),
        "data_text": version_data_text(training) if training.get("data") else None,
        "accuracy": None if accuracy is None else 100 * accuracy,
        "test_samples": metrics.get("samples") or (metrics.get("test_data") or {}).get("samples"),
        "classes": classes, "has_confusion_matrix": bool(matrix),
    }


def version_history(versions) -> list[dict]:
    """Every version for the history table: accuracy in percent and how it was trained."""
    rows = []
    for version in versions:
        accuracy = (version.metrics or {}).get("accuracy")
        rows.append({"version": version, "accuracy": None if accuracy is None else 100 * accuracy,
                     "trained": version_training_text(version.training) if version.training else None})
    return rows


def confusion_png(version: ModelVersion) -> bytes:
    """The version's MNIST confusion matrix as a PNG (rendered once per version and process)."""
    matrix = version.metrics["confusion_matrix"]
    return _render_confusion(version.sha256, tuple(tuple(int(n) for n in row) for row in matrix))


@lru_cache(maxsize=8)
def _render_confusion(_key: str, matrix: tuple[tuple[int, ...], ...]) -> bytes:
    import numpy as np
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure  # no pyplot: no global state shared between request threads

    counts = np.array(matrix)
    n_true, n_read = counts.shape
    # No words in the picture: it is one file for every language, and the page's caption (translated)
    # says what the axes are. "×" is the "not a digit" class.
    labels = [str(c) if isinstance(c, int) else "×" for c in class_names(NOT_A_DIGIT + 1)]
    fig = Figure(figsize=(6.4, 5.6), dpi=100)
    ax = fig.add_subplot()
    # Log colours: the diagonal holds ~1000 per cell, mistakes a handful; linear colours would hide them.
    norm = LogNorm(vmin=0.5, vmax=max(counts.max(), 1))
    image = ax.imshow(np.maximum(counts, 0.5), cmap="Blues", norm=norm)
    for i in range(n_true):
        for j in range(n_read):
            if counts[i, j]:
                dark = counts[i, j] > counts.max() ** 0.5
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if dark else ("#b42318" if i != j else "#1d2330"))
    ax.set_xticks(range(n_read), labels[:n_read])
    ax.set_yticks(range(n_true), labels[:n_true])
    ax.set_title(f"MNIST: {counts.trace()} / {counts.sum()}")
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
