"""A model card in Markdown, written from a checkpoint's own description (nothing else)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from .config import DIGIT_CLASSES

# Options whose value is a file or folder of the machine that trained (``--out var/ck/x.pt``).
_PATH_OPTIONS = ("--out", "--checkpoint", "--data", "--mnist", "--real")


def command_text(command: str | None) -> str:
    """A training command as a card or page shows it: without the paths of the machine that ran it.

    >>> command_text("python -m ml train --out var/ck/reject5-s0.pt --seed 0")
    'python -m ml train --seed 0'
    >>> command_text("python -m ml train --out=/srv/runs/x.pt --epochs 3")
    'python -m ml train --epochs 3'
    """
    words, kept = (command or "").split(), []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in _PATH_OPTIONS:
            skip = True
            continue
        if word.split("=", 1)[0] in _PATH_OPTIONS or _looks_like_a_path(word):
            continue
        kept.append(word)
    return " ".join(kept)


def _looks_like_a_path(word: str) -> bool:
    return "/" in word or "\\" in word or PurePath(word).suffix in (".pt", ".pth", ".gz", ".json")


@dataclass(frozen=True)
class DataCounts:
    """What a model was trained on, counted: MNIST images (all or a random subset) and corrections."""

    images: int  # MNIST (or other) images, corrections not included
    corrections: int
    mnist: bool  # the images are MNIST's training set
    subset: bool  # a random subset of it
    real: int = 0  # boxes read in a labelled real set (ml.training.real), each shown ``repeats`` times
    real_set: str = ""
    repeats: int = 1


def data_counts(data: dict[str, Any] | None) -> DataCounts | None:
    """The counts in a checkpoint's ``training["data"]``, whose source names a folder of the machine that
    trained (never shown); None when not recorded.

    >>> data_counts({"source": "/data/mnist (random 1000) + 7 feedback digits", "samples": 1007})
    DataCounts(images=1000, corrections=7, mnist=True, subset=True, real=0, real_set='', repeats=1)
    """
    data = data or {}
    source, samples = str(data.get("source") or ""), data.get("samples")
    if not isinstance(samples, int):
        return None
    found = re.search(r"\+ (\d+) (?:feedback digits|accepted corrections)", source)
    corrections = int(found.group(1)) if found else 0
    real = re.search(r"\+ (\d+) real boxes of (\S+) × (\d+)", source)
    shown, repeats = (int(real.group(1)), int(real.group(3))) if real else (0, 1)
    return DataCounts(images=samples - corrections - shown, corrections=corrections,
                      mnist="mnist" in source.lower(), subset="(random" in source, real=shown // repeats,
                      real_set=real.group(2) if real else "", repeats=repeats)


def data_text(data: dict[str, Any] | None) -> str:
    """What a model was trained on, in words: never the folder it was read from.

    >>> data_text({"source": "../shared/datasets/mnist", "samples": 60000})
    'MNIST training set, 60,000 images'
    >>> data_text({"source": "/data/mnist (random 1000) + 7 feedback digits", "samples": 1007})
    'MNIST training set, a random 1,000 images + 7 accepted corrections'
    >>> data_text({"source": "/data/mnist + 6245 real boxes of more × 5", "samples": 66245})
    'MNIST training set, 60,000 images + 1,249 boxes read in the real set more, each shown 5 times'
    """
    counts = data_counts(data)
    if counts is None:
        return "not recorded"
    if not counts.mnist:
        text = f"{counts.images:,} images"
    else:
        text = f"MNIST training set, {'a random ' if counts.subset else ''}{counts.images:,} images"
    if counts.real:
        text += (f" + {counts.real:,} boxes read in the real set {counts.real_set}, each shown "
                 f"{counts.repeats} times")
    return text + (f" + {counts.corrections:,} accepted corrections" if counts.corrections else "")


def _confusion_table(matrix: list[list[int]]) -> str:
    head = "| true \\ read | " + " | ".join(str(d) for d in range(DIGIT_CLASSES)) + " |"
    rule = "|---|" + "---:|" * DIGIT_CLASSES
    rows = [f"| **{d}** | " + " | ".join(str(v) for v in row) + " |" for d, row in enumerate(matrix)]
    return "\n".join([head, rule, *rows])


def model_card(meta: dict[str, Any], *, file_name: str = "") -> str:
    """Markdown describing the model: recipe, command, time, accuracy, per-class, confusion matrix.

    >>> from ml.models.checkpoint import read_meta
    >>> from ml.paths import DEFAULT_CHECKPOINT
    >>> card = model_card(read_meta(DEFAULT_CHECKPOINT), file_name="digitscan-cnn.pt")
    >>> card.splitlines()[0], "Confusion matrix" in card, "../" in card or "var/" in card
    ('# Model card: digitscan-cnn', True, False)
    """
    file_name = PurePath(file_name).name  # the file, not the folder it was in on this machine
    metrics, training = meta.get("metrics", {}), meta.get("training", {})
    data = training.get("data", {})
    lines = [
        f"# Model card: {meta.get('name')}",
        "",
        f"- File: `{file_name or meta.get('name')}` — family `{meta.get('family')}`, created "
        f"{meta.get('created')}, torch {meta.get('torch_version')}",
        f"- Training command: `{command_text(training.get('command'))}` (recipe `{training.get('recipe')}`, "
        f"seed {training.get('seed')})",
        f"- Training time: {training.get('seconds')} s on {training.get('machine', 'this machine')}",
        f"- Training data: {data_text(data)}",
        f"- Preprocessing signature: `{meta.get('preprocess', {}).get('signature')}`",
        "",
        "## MNIST test set",
        "",
        f"**Accuracy: {100 * metrics.get('accuracy', 0):.2f}%** on {metrics.get('samples')} images "
        f"(evaluated in {metrics.get('seconds')} s). Reproduce with "
        f"`python -m ml evaluate CHECKPOINT` on this file.",
        "",
        "| digit | " + " | ".join(str(d) for d in range(DIGIT_CLASSES)) + " |",
        "|---|" + "---:|" * DIGIT_CLASSES,
        "| accuracy (%) | " + " | ".join(f"{100 * a:.2f}" for a in metrics.get("per_class_accuracy", []))
        + " |",
        "",
        *([f"The model also has an eleventh output, \"not a digit\" (pairs, fragments, marks: "
           f"`ml.synth.negatives`), which the reader uses to choose splits and merges and to drop marks. "
           f"Accuracy above is over the ten digits; {100 * metrics['rejected']:.2f}% of the test "
           f"digits had \"not a digit\" as their top output.", ""] if "rejected" in metrics else []),
        "Confusion matrix (rows: true digit, columns: digit read):",
        "",
        _confusion_table(metrics.get("confusion_matrix", [[0] * DIGIT_CLASSES] * DIGIT_CLASSES)),
        "",
        "## Model and training configuration",
        "",
        "```json",
        json.dumps({"model": meta.get("config"), "training": meta.get("train_config")}, indent=2),
        "```",
    ]
    return "\n".join(lines) + "\n"
