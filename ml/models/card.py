"""A model card in Markdown, written from a checkpoint's own description (nothing else)."""

from __future__ import annotations

import json
from typing import Any

from .config import DIGIT_CLASSES


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
    >>> card.splitlines()[0], "Confusion matrix" in card
    ('# Model card: digitscan-cnn', True)
    """
    metrics, training = meta.get("metrics", {}), meta.get("training", {})
    data = training.get("data", {})
    lines = [
        f"# Model card: {meta.get('name')}",
        "",
        f"- File: `{file_name or meta.get('name')}` — family `{meta.get('family')}`, created "
        f"{meta.get('created')}, torch {meta.get('torch_version')}",
        f"- Training command: `{training.get('command')}` (recipe `{training.get('recipe')}`, "
        f"seed {training.get('seed')})",
        f"- Training time: {training.get('seconds')} s on {training.get('machine', 'this machine')}",
        f"- Training data: {data.get('samples')} images from {data.get('source')}",
        f"- Preprocessing signature: `{meta.get('preprocess', {}).get('signature')}`",
        "",
        "## MNIST test set",
        "",
        f"**Accuracy: {100 * metrics.get('accuracy', 0):.2f}%** on {metrics.get('samples')} images "
        f"(evaluated in {metrics.get('seconds')} s). Reproduce with "
        f"`python -m ml evaluate {file_name or 'CHECKPOINT'}`.",
        "",
        "| digit | " + " | ".join(str(d) for d in range(DIGIT_CLASSES)) + " |",
        "|---|" + "---:|" * DIGIT_CLASSES,
        "| accuracy (%) | " + " | ".join(f"{100 * a:.2f}" for a in metrics.get("per_class_accuracy", []))
        + " |",
        "",
        *([f"The model also has an eleventh output, \"not a digit\" (pairs, fragments, marks: "
           f"`ml/synth/negatives.py`), which the reader uses to choose splits and merges and to drop marks. "
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
