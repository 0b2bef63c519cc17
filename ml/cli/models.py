"""``train``, ``evaluate`` and ``card``: a checkpoint made, measured and described."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ml.data import load_mnist
from ml.models.card import model_card
from ml.models.checkpoint import load_checkpoint
from ml.models.size import count_parameters
from ml.progress import TqdmProgress
from ml.training.evaluate import evaluate
from ml.training.recipes import TrainRequest
from ml.training.run import train_checkpoint, training_splits


def cmd_train(args: argparse.Namespace) -> int:
    request = TrainRequest(family=args.model, recipe=args.recipe, epochs=args.epochs, limit=args.limit,
                           test_limit=args.test_limit, seed=args.seed, dry_run=args.dry_run)
    extra = None
    if args.real:
        from ml.reading.reader import default_model
        from ml.training.real import real_samples

        extra = real_samples(args.real, default_model(), repeats=args.real_repeats,
                             progress=TqdmProgress("real"))
        print(f"{len(extra) // max(args.real_repeats, 1)} real boxes from {args.real}", file=sys.stderr)
    train, test = training_splits(request, extra=extra)
    print(f"training {args.model} ({args.recipe} recipe) on {len(train)} images", file=sys.stderr)
    trained = train_checkpoint(request, args.out, train, test, progress=TqdmProgress(args.model),
                               command=args.command_line)
    card = trained.path.with_suffix(".md")
    card.write_text(model_card(load_checkpoint(trained.path).meta, file_name=str(trained.path)))
    module = getattr(trained.model, "module", None)
    size = f", {count_parameters(module):,} parameters" if module is not None else ""
    print(f"wrote {trained.path} and {card}: test accuracy {100 * trained.metrics['accuracy']:.2f}% "
          f"after {trained.seconds:.0f} s of training{size}")
    return 0


def _print_metrics(meta: dict, metrics: dict) -> None:
    print(f"model: {meta.get('name')} ({meta.get('family')})")
    print(f"test accuracy: {100 * metrics['accuracy']:.2f}% on {metrics['samples']} images "
          f"({metrics['seconds']:.2f} s)")
    print("per-class accuracy: " + "  ".join(
        f"{d}: {100 * a:.2f}" for d, a in enumerate(metrics["per_class_accuracy"])))
    print("confusion matrix (rows = true digit, columns = predicted):")
    print("      " + "".join(f"{d:>6}" for d in range(10)))
    for d, row in enumerate(metrics["confusion_matrix"]):
        print(f"{d:>6}" + "".join(f"{v:>6}" for v in row))


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = load_checkpoint(args.checkpoint)
    _, test = load_mnist()
    metrics = evaluate(model.classifier, test.subset(args.limit))
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), **metrics}))
    else:
        _print_metrics(model.meta, metrics)
        recorded = model.meta.get("metrics", {}).get("accuracy")
        if recorded is not None:
            print(f"recorded accuracy: {100 * recorded:.2f}%")
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    text = model_card(load_checkpoint(args.checkpoint).meta, file_name=args.checkpoint)
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0
