"""How a model was trained and what a retrain was asked for, in words for people.

Checkpoints record the training command and the data's source as the machine that trained saw them
(``--out var/ck/x.pt``, ``../shared/datasets/mnist``); pages never show those, only what they mean.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from ml.models.card import command_text, data_counts
from ml.training.recipes import recipe_train_config

MNIST_TRAIN, MNIST_TEST = 60_000, 10_000
RETRAIN_COMMAND = re.compile(r"DigitScan retrain \(ExperimentRun #(\d+)\)")


def recipe_name(recipe: str | None) -> str:
    return {"served": _("served (the model DigitScan serves)"),
            "thesis": _("thesis (the study's CNN)")}.get(recipe or "", recipe or _("not recorded"))


def data_words(*, images: int, corrections: int = 0, mnist: bool = True, subset: bool | None = None,
               real: int = 0, real_set: str = "") -> str:
    """E.g. "MNIST training set, 60,000 images + 41 accepted corrections"; ``real`` boxes read in a
    labelled real set (``python -m ml train --real``) are named with it."""
    subset = images < MNIST_TRAIN if subset is None else subset
    if not mnist:
        text = _("%(n)s images") % {"n": f"{images:,}"}
    elif subset:
        text = _("MNIST training set, a random %(n)s images") % {"n": f"{images:,}"}
    else:
        text = _("MNIST training set, %(n)s images") % {"n": f"{images:,}"}
    if real:
        text += " " + _("+ %(n)s boxes read in the real set %(name)s") % {"n": f"{real:,}", "name": real_set}
    if corrections:
        text += " " + _("+ %(n)s accepted corrections") % {"n": f"{corrections:,}"}
    return text


def version_data_text(training: dict | None) -> str:
    """What a version was trained on, from its checkpoint's training description."""
    training = training or {}
    summary = training.get("data_summary")
    if summary:
        return data_words(images=summary["mnist"], corrections=summary["corrections"])
    counts = data_counts(training.get("data"))
    if counts is None:
        return _("not recorded")
    return data_words(images=counts.images, corrections=counts.corrections, mnist=counts.mnist,
                      subset=counts.subset, real=counts.real, real_set=counts.real_set)


def version_training_text(training: dict | None) -> str:
    """How a version was trained: its recipe, epochs and seed, and by what (a retrain here, a command)."""
    if not training:
        return _("not recorded")
    epochs = (training.get("train_config") or {}).get("epochs")
    parts = [_("%(recipe)s recipe") % {"recipe": training.get("recipe") or _("unknown")}]
    if training.get("dry_run"):
        parts.append(_("dry run"))
    elif epochs:
        parts.append(_("%(n)s epochs") % {"n": epochs})
    if training.get("seed") is not None:
        parts.append(_("seed %(n)s") % {"n": training["seed"]})
    return _(", ").join(parts) + " · " + command_words(training.get("command"))


def command_words(command: str | None) -> str:
    if not command:
        return _("how: not recorded")
    found = RETRAIN_COMMAND.fullmatch(command)
    if found:
        return _("retrain #%(id)s on this site") % {"id": found.group(1)}
    return command_text(command)


def params_rows(params: dict) -> list[tuple[str, str]]:
    """A retrain's parameters as (label, value) rows."""
    recipe = params.get("recipe")
    epochs = params.get("epochs")
    rows = [(_("Recipe"), recipe_name(recipe))]
    if params.get("dry_run"):
        rows.append((_("Epochs"), _("one, two batches (dry run)")))
    elif epochs:
        rows.append((_("Epochs"), str(epochs)))
    elif recipe:
        rows.append((_("Epochs"), _("%(n)s (the recipe's)") % {"n": recipe_train_config(recipe).epochs}))
    limit, test = params.get("limit"), params.get("test_limit")
    if not test and params.get("dry_run"):
        test = 500
    rows += [
        (_("MNIST training images"), _subset_text(limit, MNIST_TRAIN)),
        (_("MNIST test images"), _subset_text(test, MNIST_TEST)),
        (_("Seed"), str(params.get("seed", 0))),
        (_("Accepted corrections"), _("included: one upload in four is held out to judge on")
         if params.get("feedback") else _("not included")),
        (_("Dry run"), _("yes") if params.get("dry_run") else _("no")),
    ]
    return rows


def _subset_text(n: int | None, whole: int) -> str:
    return _("a random %(n)s") % {"n": f"{n:,}"} if n else _("all %(n)s") % {"n": f"{whole:,}"}


def held_out_text(data: dict) -> str:
    """The corrections a run judged on, e.g. "12 accepted corrections from 3 uploads, held out"."""
    if not data.get("feedback", True):
        return _("none: accepted corrections were not included")
    if not data.get("held_out"):
        return _("none: no accepted correction fell on the held-out side")
    return _("%(n)s accepted corrections from %(uploads)s uploads, held out from training") % {
        "n": f"{data['held_out']:,}", "uploads": data["held_out_uploads"]}
