"""Test metrics of any trained model: accuracy, per-class accuracy, the confusion matrix, seconds.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ml.data import Split
from ml.models.classifiers import Classifier
from ml.models.config import DIGIT_CLASSES, NOT_A_DIGIT

from .train import pixels


def metrics_from_predictions(pred: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, per-class accuracy and the confusion matrix (rows = truth, columns = prediction).

    >>> import numpy as np
    >>> m = metrics_from_predictions(np.array([1, 2, 2]), np.array([1, 2, 3]))
    >>> round(m["accuracy"], 3), m["confusion_matrix"][3][2]
    (0.667, 1)
    """
    confusion = np.zeros((DIGIT_CLASSES, DIGIT_CLASSES), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(1), 1)
    return {
        "accuracy": float((pred == labels).mean()) if len(labels) else 0.0,
        "per_class_accuracy": [round(float(a), 6) for a in per_class],
        "confusion_matrix": confusion.tolist(),
        "samples": int(len(labels)),
    }


def evaluate(model: Classifier, test: Split) -> dict[str, Any]:
    """Test metrics plus ``seconds``, the wall time of predicting the whole split.

    For a model with the reject output, accuracy is over the ten digits (every test image is a
    digit) and ``rejected`` is the share of test digits whose top output was "not a digit".

    >>> from ml.data import load_mnist
    >>> from ml.models.checkpoint import load_checkpoint
    >>> result = evaluate(load_checkpoint().classifier, load_mnist()[1].subset(200))
    >>> result["accuracy"] > 0.97, result["samples"], "rejected" in result
    (True, 200, True)
    """
    x = pixels(test.images)
    start = time.perf_counter()
    probs = np.asarray(model.predict_proba(x))
    seconds = time.perf_counter() - start
    result = metrics_from_predictions(probs[:, :DIGIT_CLASSES].argmax(1), test.labels.numpy())
    if probs.shape[1] > DIGIT_CLASSES:
        rejected = (probs.argmax(1) == NOT_A_DIGIT).mean()
        result["rejected"] = round(float(rejected), 6) if len(probs) else 0.0
    result["seconds"] = round(seconds, 3)
    return result
