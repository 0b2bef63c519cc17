"""``train-lines``: the line reader trained on synthetic MNIST strings and real strings, measured on a
held-out fold of the real ones and on strings of MNIST test digits, written as a line checkpoint."""

from __future__ import annotations

import argparse
import sys
import time

from ml.data import load_mnist
from ml.models.linemodel import load_line_model, save_line_model
from ml.models.size import count_parameters
from ml.paths import dataset
from ml.progress import TqdmProgress
from ml.synth.strings import string_set
from ml.training.lines import LineTrainConfig, line_metrics, load_strips, train_lines, training_record

ORAND = "orand-car-a-train"  # the shared real cheque amounts, found by ml.paths.dataset


def cmd_train_lines(args: argparse.Namespace) -> int:
    cfg = LineTrainConfig(epochs=args.epochs, synthetic=args.synthetic, real_repeats=args.real_repeats,
                          lr=args.lr, seed=args.seed, context=args.context)
    folds = args.folds if args.holdout is not None else 0
    source = dataset(ORAND) if args.real is None else args.real
    real = load_strips(source, folds=folds, exclude_fold=args.holdout) if source else []
    held = load_strips(source, folds=folds, only_fold=args.holdout) if source and folds else []
    init = load_line_model(args.init).net if args.init else None
    print(f"training the line reader on {cfg.synthetic} synthetic strings per epoch and {len(real)} real "
          f"ones × {cfg.real_repeats}" + (f", fold {args.holdout} of {folds} held out" if held else ""),
          file=sys.stderr)
    start = time.perf_counter()
    net = train_lines(cfg, real, progress=TqdmProgress("lines"), init=init, dry_run=args.dry_run)
    seconds = time.perf_counter() - start
    test = load_mnist()[1]
    metrics = {"mnist_test_strings": line_metrics(net, string_set(test.images.numpy(), test.labels.numpy(),
                                                                   args.test_strings, seed=12345))}
    if held:
        metrics["real_held_out"] = {**line_metrics(net, held), "fold": args.holdout, "folds": folds}
    record = training_record(cfg, ORAND if args.real is None else args.real, len(real), seconds)
    record["command"] = args.command_line
    record["init"] = args.init
    save_line_model(net, args.out, metrics=metrics, training=record)
    print(f"wrote {args.out}: {count_parameters(net):,} parameters, {seconds:.0f} s of training")
    for name, m in metrics.items():
        print(f"  {name}: {100 * m['exact']:.1f} % of {m['strings']} strings exact, "
              f"{100 * m['digit_accuracy']:.2f} % of digits")
    return 0
