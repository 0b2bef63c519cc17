"""The measured trainings the site's retrain estimates start from are the shipped records' own figures."""

from __future__ import annotations

import json

from ml.models.checkpoint import read_meta
from ml.paths import DEFAULT_CHECKPOINT, PROJECT_ROOT
from ml.training.recipes import MEASURED_TRAINING, recipe_train_config


def test_the_served_figures_are_the_shipped_checkpoints_own_record():
    training = read_meta(DEFAULT_CHECKPOINT)["training"]
    served = MEASURED_TRAINING["served"]
    assert training["recipe"] == "served" and not training.get("dry_run")
    assert served.seconds == training["seconds"] and served.samples == training["data"]["samples"]
    assert served.epochs == training["train_config"]["epochs"] == recipe_train_config("served").epochs
    card = (DEFAULT_CHECKPOINT.with_suffix(".md")).read_text()
    assert f"Training time: {served.seconds} s" in card


def test_the_thesis_figures_are_the_committed_benchmarks_cnn_which_is_the_thesis_recipe():
    results = json.loads((PROJECT_ROOT / "docs" / "results" / "benchmark" / "results.json").read_text())
    cnn = next(row for row in results["rows"] if row["family"] == "cnn")
    thesis = MEASURED_TRAINING["thesis"]
    assert thesis.seconds == cnn["train_seconds"] and thesis.samples == results["train_samples"]
    assert thesis.epochs == cnn["train_config"]["epochs"] == recipe_train_config("thesis").epochs
    assert cnn["train_config"]["batch_size"] == recipe_train_config("thesis").batch_size
