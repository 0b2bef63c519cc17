"""What a run's admin pages show: its progress with times, and a retrain's results as tables.

Progress is the same dict on the page and in the staff-only JSON the page polls (``progress``), so the
first paint and each refresh say the same thing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from web.registry import log_words
from web.registry.estimate import Basis, dry_run_images, duration_text
from web.registry.models import ExperimentRun
from web.registry.promotion import Decision, Score
from web.registry.words import data_words, held_out_text, params_rows

# Below this share done, the remaining time comes from the run's estimate; above it, from its own pace
# (the first few percent are loading and preparing data, which says little about the epochs).
PACE_FROM = 0.1


def progress(run: ExperimentRun, *, now: dt.datetime | None = None) -> dict:
    """Percent done, time elapsed and left, and a line saying so."""
    now = now or timezone.now()
    is_open = run.status in ExperimentRun.OPEN
    percent = int(100 * run.progress)  # floored: 100 % only when it is done
    estimate = (run.estimate or {}).get("seconds")
    elapsed = remaining = None
    if run.started:
        elapsed = ((run.finished or now) - run.started).total_seconds()
    if run.status == ExperimentRun.Status.RUNNING and elapsed is not None:
        if run.progress >= PACE_FROM:
            remaining = elapsed * (1 - run.progress) / run.progress
        elif estimate is not None:
            remaining = max(0.0, estimate - elapsed)
    return {"id": run.id, "status": run.status, "status_label": run.get_status_display(), "open": is_open,
            "percent": percent, "percent_text": _("%(n)d %%") % {"n": percent},
            "elapsed_s": elapsed, "remaining_s": remaining, "estimate_s": estimate,
            "text": _progress_line(run, elapsed, remaining, estimate),
            "last_line": log_words.last_line(run)}  # the worker's latest word (epoch, loss), translated


def _progress_line(run: ExperimentRun, elapsed, remaining, estimate) -> str:
    if run.status == ExperimentRun.Status.QUEUED:
        if estimate is None:
            return _("queued: waiting for the training worker")
        return _("queued: waiting for the training worker; estimated to take %(estimate)s") % {
            "estimate": duration_text(estimate)}
    if run.status == ExperimentRun.Status.RUNNING:
        if remaining is None:
            return _("running for %(elapsed)s") % {"elapsed": duration_text(elapsed)}
        return _("running for %(elapsed)s; about %(remaining)s left") % {
            "elapsed": duration_text(elapsed), "remaining": duration_text(remaining)}
    took = duration_text(elapsed) if elapsed is not None else "—"
    if run.status == ExperimentRun.Status.DONE:
        if estimate is None:
            return _("finished in %(took)s") % {"took": took}
        return _("finished in %(took)s (estimated %(estimate)s)") % {"took": took,
                                                                      "estimate": duration_text(estimate)}
    return _("failed after %(took)s") % {"took": took}


def retrain_page(run: ExperimentRun) -> dict:
    """Everything a retrain's admin page shows beyond its raw fields."""
    page = {"progress": progress(run), "params": params_rows(run.params), "estimate": run.estimate or None}
    if run.estimate:
        basis = Basis(**{k: run.estimate[k] for k in ("recipe", "seconds_per_image_epoch", "setup_seconds",
                                                      "runs")})
        page.update(estimate_text=duration_text(run.estimate["seconds"]), estimate_basis=basis.text())
    results = run.results or {}
    if run.status == ExperimentRun.Status.DONE and "decision" in results:
        page.update(_results(results, run.params))
    return page


def _results(results: dict, params: dict) -> dict:
    data, scores = results["data"], results["scores"]
    decision = Decision.from_dict(results["decision"])

    def score(key: str) -> Score | None:
        found = scores.get(key)
        return Score(correct=found["correct"], samples=found["samples"]) if found else None

    summary = [
        {"what": _("MNIST test images (%(n)s)") % {"n": f"{scores['mnist_new']['samples']:,}"},
         "active": score("mnist_active"), "new": score("mnist_new")},
        {"what": _("Held-out accepted corrections (%(n)s)") % {"n": f"{scores['held_new']['samples']:,}"},
         "active": score("held_active"), "new": score("held_new")},
    ]
    for row in summary:
        row["change"] = _change(row["active"], row["new"])
    return {
        "data_text": (_("a dry run: two batches (%(n)s images) from the MNIST training set") % {
            "n": f"{dry_run_images(params):,}"} if params.get("dry_run")
            else data_words(images=data["mnist"], corrections=data["corrections"])),
        "held_out_text": held_out_text(data), "not_a_digit_left_out": data.get("not_a_digit_left_out", 0),
        "summary": summary, "decision": decision, "reason": decision.reason(),
        "mnist_test": f"{scores['mnist_new']['samples']:,}",
        "mnist_classes": _per_class(scores.get("mnist_active"), scores["mnist_new"]),
        "held_classes": _per_class(scores.get("held_active"), scores["held_new"]),
        "active_version": results.get("active_version"), "seconds": results.get("seconds"),
        "took_text": duration_text(results.get("seconds")),
    }


def _change(active: Score | None, new: Score | None) -> str:
    if active is None or new is None or not new.samples:
        return "—"
    return _("%(sign)s%(points).2f points") % {
        "sign": "+" if new.accuracy >= active.accuracy else "−",
        "points": abs(100 * (new.accuracy - active.accuracy))}


def _per_class(active: dict | None, new: dict) -> list[dict]:
    """One row per class that has samples: label, samples, and each model's accuracy in percent."""
    rows = []
    for i, row in enumerate(new["per_class"]):
        if not row["samples"]:
            continue
        before = active["per_class"][i] if active else None
        rows.append({"label": _("not a digit") if row["label"] == 10 else str(row["label"]),
                     "samples": row["samples"],
                     "active": 100 * before["correct"] / before["samples"] if before else None,
                     "new": 100 * row["correct"] / row["samples"],
                     "active_correct": before["correct"] if before else None, "new_correct": row["correct"]})
    return rows
