"""The study's settings and machine in words, and its charts as bars drawn by the page.

A results file records its command, parameters and platform as the machine that ran them saw them
(``python -m ml benchmark --out docs/results/benchmark``, ``Linux-6.18…-glibc2.36``); the Experiments
page says what they mean instead ("seed 0, 60,000 training images, on the project's 2-core machine").
Charts are HTML bars (``registry/_bars.html``), so their words are the page's, in either language; the
PNG plots ml draws stay among the files, as the study wrote them.
"""

from __future__ import annotations

import re

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from web.registry.labels import FAMILY_LABELS, STUDY_LABELS
from web.registry.words import RETRAIN_COMMAND

# Ablation variants whose names are words (the others are numbers: channels, widths, kernels, rates).
VARIANT_LABELS = {
    ("pool", "max"): gettext_lazy("max pooling"), ("pool", "avg"): gettext_lazy("average pooling"),
    ("pool", "none"): gettext_lazy("no pooling"),
    ("layers", "2 blocks"): gettext_lazy("2 blocks"), ("layers", "1 block"): gettext_lazy("1 block"),
}


def variant_label(study: str, variant: str) -> str:
    return str(VARIANT_LABELS.get((study, variant), variant))


def _count(n: int) -> str:
    return number_format(n, force_grouping=True)


def machine_words(machine: dict | None, *, here: bool) -> str:
    """Where it ran, in words: "the project's 2-core machine" (the committed study) or "this site's
    training worker, 2 cores"."""
    cores = (machine or {}).get("cpu_threads")
    if here:
        if not cores:
            return _("this site's training worker")
        return ngettext("this site's training worker, %(n)s core", "this site's training worker, %(n)s cores",
                        cores) % {"n": cores}
    if not cores:
        return _("the project's machine")
    return _("the project's %(n)s-core machine") % {"n": cores}


def trained_on_words(training: dict) -> str | None:
    """Where a version was trained, in words, from its checkpoint's machine line or record
    (``x86_64, 2 torch threads, Linux-6.18…``): "this site's training worker, 2 cores", "a 2-core machine"."""
    machine = training.get("machine")
    if isinstance(machine, str):
        found = re.search(r"(\d+) torch threads", machine)
        machine = {"cpu_threads": int(found[1])} if found else {}
    if not machine and not training.get("command"):
        return None
    if RETRAIN_COMMAND.fullmatch(training.get("command") or ""):
        return machine_words(machine, here=True)
    cores = (machine or {}).get("cpu_threads")
    if not cores:
        return None
    return ngettext("a machine with %(n)s core", "a machine with %(n)s cores", cores) % {"n": cores}


def setting_words(kind: str, results: dict, params: dict, *, here: bool) -> str:
    """How the study was run, as one sentence: seeds, data, epochs, what it covered, where."""
    parts = []
    seeds = results.get("seeds")
    if seeds is None and params.get("seeds"):  # a run's parameters before its results: seed0 and a count
        seeds = list(range(params.get("seed0", 0), params.get("seed0", 0) + params["seeds"]))
    if isinstance(seeds, list) and len(seeds) > 1:
        parts.append(_("seeds %(seeds)s (%(n)s runs of each variant)")
                     % {"seeds": _(", ").join(map(str, seeds)), "n": len(seeds)})
    elif seeds or results.get("seed", params.get("seed")) is not None:
        parts.append(_("seed %(n)s") % {"n": seeds[0] if seeds else results.get("seed", params.get("seed"))})
    if results.get("train_samples"):
        parts.append(_("%(train)s training images, %(test)s test images") % {
            "train": _count(results["train_samples"]), "test": _count(results.get("test_samples") or 0)})
    epochs = results.get("epochs") or params.get("epochs")
    parts.append(ngettext("%(n)s epoch", "%(n)s epochs", epochs) % {"n": epochs} if epochs
                 else _("each family's own epochs"))
    chosen = params.get("families") if kind == "benchmark" else params.get("studies")
    labels = FAMILY_LABELS if kind == "benchmark" else STUDY_LABELS
    if chosen:
        parts.append(_("only %(which)s") % {"which": _(", ").join(str(labels.get(c, c)) for c in chosen)})
    if results.get("dry_run") or params.get("dry_run"):
        parts.append(_("a dry run: two batches per model, which checks the pipeline and measures nothing"))
    sentence = _("; ").join(parts)
    return _("%(setting)s, on %(machine)s") % {
        "setting": sentence, "machine": machine_words(results.get("machine"), here=here)}


def timing_words(results: dict) -> str | None:
    """The ablation's separate timing pass, if it had one, in words."""
    timing = results.get("timing")
    if not timing:
        return None
    return _("Times and “× full” come from a separate timing pass (%(rounds)s rounds of %(batches)s batches "
             "per network, every network timed in the same rounds) on %(machine)s.") % {
        "rounds": timing.get("rounds", "?"), "batches": timing.get("batches", "?"),
        "machine": machine_words(timing.get("machine"), here=False)}


def bars(rows: list[dict], *, floor: float, ceiling: float) -> list[dict]:
    """``rows`` (``label`` and ``values``: [(series, value or None)]) with each value as a bar's width in
    percent of the scale from ``floor`` to ``ceiling``."""
    span = max(ceiling - floor, 1e-9)
    shaped = []
    for row in rows:
        values = [{"series": series, "value": value,
                   "width": None if value is None else max(0.0, min(100.0, 100 * (value - floor) / span))}
                  for series, value in row["values"]]
        shaped.append({**row, "values": values})
    return shaped


def benchmark_chart(rows: list[dict]) -> dict:
    """Accuracy per family, ours beside the thesis', as bars from 90 % (all six are above it)."""
    values = [v for row in rows for v in (row["accuracy"], row["thesis_accuracy"]) if v is not None]
    floor = min(90.0, (min(values) // 5) * 5) if values else 90.0
    return {"floor": floor, "ceiling": 100.0, "rows": bars(
        [{"label": row["name"], "values": [("ours", row["accuracy"]), ("thesis", row["thesis_accuracy"])]}
         for row in rows], floor=floor, ceiling=100.0)}


def ablation_chart(rows: list[dict]) -> dict | None:
    """One study's mean accuracy per variant, as bars over the range the variants span (a tenth of a
    point matters here), and each variant's training time against the full network's."""
    means = [r["accuracy_mean"] for r in rows if r.get("seeds_done") and r.get("accuracy_mean") is not None]
    if not means:
        return None
    floor = round(min(means) - 0.3, 1)
    ceiling = round(max(means) + 0.1, 1)
    shaped = bars([{"label": r["label"], "reference": r["reference"],
                    "values": [("accuracy", r["accuracy_mean"] if r.get("seeds_done") else None)],
                    "std": r.get("accuracy_std")} for r in rows], floor=floor, ceiling=ceiling)
    return {"floor": floor, "ceiling": ceiling, "rows": shaped}
