"""A run's log lines and a failed run's reason, in the reader's language.

The training worker writes both in English: it serves no request, and its log is also the server's
record. Pages translate them when they are shown: every kind of line the worker writes (``worker/``, and
``ml.progress.to_report`` for epochs and fits) has a pattern here and its words in the catalogue; English
readers, and any line no pattern knows, get the line as it was written. A failed run's reason never holds
a path or an address (``worker.tasks``); reasons stored before that rule are shown as the sentence they
would be now.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from web.errors import ApplicationError
from web.registry.labels import STUDY_LABELS
from web.registry.models import ExperimentRun
from web.registry.params import run_params
from web.registry.promotion import Decision
from web.registry.study_words import variant_label

NUMBER = r"[\d.,]+|nan"
UPLOAD = r"[0-9a-f-]{36}"

# (pattern of the English line, its words): the words' placeholders are the pattern's named groups.
LINES: list[tuple[re.Pattern, object]] = [(re.compile(p), words) for p, words in [
    (rf"epoch (?P<epoch>\d+)/(?P<epochs>\d+): loss (?P<loss>{NUMBER}), "
     rf"train accuracy (?P<accuracy>{NUMBER})%",
     gettext_lazy("epoch %(epoch)s/%(epochs)s: loss %(loss)s, accuracy on the training images "
                  "%(accuracy)s %%")),
    (r"fitting on (?P<n>\d+) samples", gettext_lazy("fitting on %(n)s samples")),
    (r"fitted on (?P<n>\d+) samples", gettext_lazy("fitted on %(n)s samples")),
    (r"accepted corrections not used \(feedback off\)",
     gettext_lazy("accepted corrections not used (the run was asked not to)")),
    (r"(?P<samples>\d+) samples from accepted corrections: (?P<digits>\d+) digits?, (?P<nad>\d+) not a digit"
     r"(?: \((?P<dropped>\d+) not-a-digit not trained on: this recipe has no such output\))?"
     r"(?:; (?P<left>\d+) left out \((?P<reasons>.*)\))?", None),  # samples_line, below
    (r"training on (?P<images>\d+) images \((?P<mnist>\d+) MNIST, (?P<corrections>\d+) accepted corrections "
     r"from (?P<uploads>\d+) uploads\); judging on (?P<test>\d+) MNIST test images and "
     r"(?P<held>\d+) held-out corrections from (?P<held_uploads>\d+) uploads",
     gettext_lazy("training on %(images)s images (%(mnist)s from MNIST, %(corrections)s accepted corrections "
                  "from %(uploads)s uploads); judging on %(test)s MNIST test images and %(held)s held-out "
                  "corrections from %(held_uploads)s uploads")),
    (rf"new model: MNIST test accuracy (?P<accuracy>{NUMBER})%",
     gettext_lazy("the new model reads %(accuracy)s %% of the MNIST test images right")),
    (r"registered (?P<name>\S+)\. (?P<reason>.*)", None),  # registered_line, below
    (r"stored (?P<n>\d+) files: (?P<names>.*)", gettext_lazy("stored %(n)s files: %(names)s")),
    (r"(?P<family>\w+): training \((?P<i>\d+)/(?P<n>\d+)\)",
     gettext_lazy("%(family)s: training (%(i)s of %(n)s)")),
    (r"trained on (?P<train>\d+) images, tested on (?P<test>\d+)",
     gettext_lazy("trained on %(train)s images, tested on %(test)s")),
    (rf"(?P<family>\w+): test accuracy (?P<accuracy>{NUMBER})% \(thesis (?P<thesis>{NUMBER})%\), "
     rf"train (?P<train>{NUMBER}) s, test (?P<test>{NUMBER}) s",
     gettext_lazy("%(family)s: test accuracy %(accuracy)s %% (the thesis: %(thesis)s %%), training "
                  "%(train)s s, testing %(test)s s")),
    (r"(?P<n>\d+) models to train \((?P<reused>\d+) results reused\)",
     gettext_lazy("%(n)s models to train (%(reused)s results reused)")),
    (rf"(?P<done>\d+)/(?P<total>\d+): (?P<run>\w+ .+ seed \d+): test accuracy "
     rf"(?P<accuracy>{NUMBER})%, train (?P<train>{NUMBER}) s", None),  # ablation_line, below
]]
LABEL = re.compile(r"(?P<label>[\w/ .=×-]+?): (?P<rest>(?:epoch|fitting|fitted) .*)")
# An ablation model's name (ml.study.ablation.plan.Run.name): "pool avg seed 1".
ABLATION_RUN = re.compile(r"(?P<study>\w+) (?P<variant>.+) seed (?P<seed>\d+)")

REASONS = [(re.compile(p), words) for p, words in [
    (rf"upload (?P<upload>{UPLOAD}): added (?P<digit>\d) has no box",
     gettext_lazy("upload %(upload)s: the added %(digit)s has no box")),
    (rf"upload (?P<upload>{UPLOAD}): its image cannot be read.*",
     gettext_lazy("upload %(upload)s: its image cannot be read")),
    (rf"upload (?P<upload>{UPLOAD}): no ink in box (?P<box>\[[\d, ]+\])",
     gettext_lazy("upload %(upload)s: no ink in box %(box)s")),
]]

# A failed run's reason (worker.tasks, services): pattern → words.
ERRORS = [(re.compile(p, re.DOTALL), words) for p, words in [
    (r"MNIST was not found on the training worker.*|DataNotFoundError: .*", gettext_lazy(
        "MNIST was not found on the training worker: put its four files in a folder, set MNIST_DIR to it "
        "and restart the worker (where it looked is in the worker's log)")),
    (r"the run stopped on an unexpected error \((?P<type>\w+)\).*|(?P<type2>[A-Z]\w+(?:Error|Exception)): .*",
     None),  # unexpected, below
    (r"the worker stopped reporting at (?P<when>[\d-]+ [\d:]+) UTC \((?P<minutes>\d+) minutes before this "
     r"check\) — it probably died; start the run again", gettext_lazy(
         "the worker stopped reporting at %(when)s UTC (%(minutes)s minutes before this check): it probably "
         "died; start the run again")),
    (r"marked failed by staff: its worker was gone or it was no longer wanted",
     gettext_lazy("marked failed by staff: its worker was gone or it was no longer wanted")),
    (r"killed after the hard time limit of (?P<s>[\d.]+) s",
     gettext_lazy("stopped by force after the hard time limit of %(s)s s")),
    (r"stopped after the time limit of (?P<s>\d+) s \((?P<name>\w+)\)",
     gettext_lazy("stopped after the time limit of %(s)s s (the setting %(name)s)")),
    (r"run #(?P<id>\d+) is a (?P<kind>\w+) run; this task runs (?P<other>\w+) runs",
     gettext_lazy("run #%(id)s is a %(kind)s run; this task runs %(other)s runs")),
]]


def _translated(table, text: str, special: Callable[[re.Match], str] | None = None) -> str | None:
    for pattern, words in table:
        found = pattern.fullmatch(text)
        if found:
            if words is None:
                return special(found)
            return str(words) % {k: v for k, v in found.groupdict().items() if v is not None}
    return None


def line_text(line: str, run: ExperimentRun | None = None) -> str:
    """One log line (without its time) in the active language; as written when no pattern knows it."""
    if _english():
        return line
    labelled = LABEL.fullmatch(line)
    if labelled:
        rest = _translated(LINES, labelled["rest"])
        if not rest:
            return line
        return _("%(label)s: %(line)s") % {"label": _run_name(labelled["label"]), "line": rest}

    def special(found: re.Match) -> str:
        groups = found.groupdict()
        if "samples" in groups:
            return _samples(found)
        if "run" in groups:
            words = _("%(done)s of %(total)s: %(run)s: test accuracy %(accuracy)s %%, training %(train)s s")
            return words % {**groups, "run": _run_name(groups["run"])}
        return _registered(found, run)

    return _translated(LINES, line, special) or line


def _run_name(name: str) -> str:
    """An ablation model's name in words ("Pooling after each conv block, average pooling, seed 1"); a
    family's code (``cnn``) as it is."""
    found = ABLATION_RUN.fullmatch(name)
    if not found:
        return name
    return _("%(study)s, %(variant)s, seed %(seed)s") % {
        "study": STUDY_LABELS.get(found["study"], found["study"]),
        "variant": variant_label(found["study"], found["variant"]), "seed": found["seed"]}


def log_lines(run: ExperimentRun) -> list[tuple[str, str]]:
    """The run's log as (time, line) pairs, each line in the active language."""
    pairs = []
    for raw in run.log.splitlines():
        time, _sep, line = raw.partition(" ")
        if not re.fullmatch(r"\d\d:\d\d:\d\d", time):
            time, line = "", raw
        pairs.append((time, line_text(line, run)))
    return pairs


def last_line(run: ExperimentRun) -> str:
    """The log's latest line, time first, in the active language (the worker's latest word)."""
    pairs = log_lines(run)
    return f"{pairs[-1][0]} {pairs[-1][1]}".strip() if pairs else ""


def error_text(run: ExperimentRun) -> str:
    """Why the run failed, as a sentence in the active language, never with a path or an address."""
    error = run.error.strip()
    if not error:
        return ""
    # Always through the table, English included: a reason stored before the no-paths rule holds them.
    return _translated(ERRORS, error, _unexpected) or _params_error(run) or error


def _english() -> bool:
    return (translation.get_language() or "en").startswith("en")


def _unexpected(found: re.Match) -> str:
    return _("the run stopped on an unexpected error (%(type)s); the details are in the training worker's "
             "log") % {"type": found["type"] or found["type2"]}


def _params_error(run: ExperimentRun) -> str | None:
    """A reason the parameters' check gave (in English, on the worker), given again in this language."""
    try:
        with translation.override("en"):
            run_params(run.kind, run.params)
    except ApplicationError as exc:
        if exc.message == run.error:
            try:
                run_params(run.kind, run.params)
            except ApplicationError as again:
                return again.message
    return None


def _samples(found: re.Match) -> str:
    text = _("%(samples)s samples from accepted corrections: %(digits)s digits, %(nad)s not a digit") % {
        k: found[k] for k in ("samples", "digits", "nad")}
    if found["dropped"]:
        text += _("; %(n)s “not a digit” samples not trained on: this recipe has no such output") % {
            "n": found["dropped"]}
    if found["left"]:
        listed, more = found["reasons"], ""
        if listed.endswith(", …"):
            listed, more = listed[:-3], ", …"
        reasons = [(_translated(REASONS, r.strip()) or r.strip()) for r in listed.split(";")]
        text += _("; %(n)s left out (%(reasons)s)") % {"n": found["left"],
                                                       "reasons": _("; ").join(reasons) + more}
    return text


def _registered(found: re.Match, run: ExperimentRun | None) -> str:
    decision = (run.results or {}).get("decision") if run is not None else None
    reason = Decision.from_dict(decision).reason() if decision else found["reason"]
    return _("registered %(name)s. %(reason)s") % {"name": found["name"], "reason": reason}
