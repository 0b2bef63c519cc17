"""The command line's words: one subcommand per job, every default taken from the request dataclasses
of ``ml`` (``TrainRequest``, ``BenchmarkRequest``, ``AblationRequest``, ``Schedule``, ``TimingPass``), so
the command line and the site's forms cannot disagree. Each subcommand names its handler as
``module:function`` in ``ml.cli``, imported only when that subcommand runs.

>>> args = build_parser().parse_args(["ablate", "--study", "pool"])
>>> args.epochs, args.seeds, args.handler
(10, 3, 'study:cmd_ablate')
"""

from __future__ import annotations

import argparse

from ml.models.config import FAMILIES
from ml.reading.params import Steps
from ml.study.ablation.schedule import Schedule, parse_deadline
from ml.study.requests import AblationRequest, BenchmarkRequest, TimingPass
from ml.synth.photo import TIERS
from ml.synth.scenes import KINDS as SCENE_KINDS
from ml.training.lines import LineTrainConfig
from ml.training.recipes import RECIPES, TrainRequest


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = argparse.ArgumentParser(prog="python -m ml", formatter_class=fmt,
                                description="train, evaluate, benchmark and read (DESIGN.md's contract)")
    sub = p.add_subparsers(dest="command", required=True)
    train, bench, ablation = TrainRequest(), BenchmarkRequest(), AblationRequest()

    t = sub.add_parser("train", help="train a model and write a checkpoint", formatter_class=fmt)
    t.add_argument("--model", default=train.family, choices=FAMILIES, help="model family")
    t.add_argument("--recipe", default=train.recipe, choices=tuple(RECIPES),
                   help="served = the CNN DigitScan serves; thesis = the study's configuration")
    t.add_argument("--epochs", type=int, default=train.epochs, help="override the recipe's epochs")
    t.add_argument("--out", default="var/checkpoints/model.pt", help="checkpoint path")
    t.add_argument("--seed", type=int, default=train.seed, help="random seed")
    t.add_argument("--limit", type=int, default=train.limit, help="train on a random subset of this size")
    t.add_argument("--test-limit", type=int, default=train.test_limit,
                   help="test on a random subset of this size (a dry run tests on 500)")
    t.add_argument("--dry-run", action="store_true", help="two batches, one epoch: checks the pipeline")
    t.add_argument("--real", default=None,
                   help="also train on the boxes the shipped model reads in this labelled set of real "
                        "images (labels.csv as score-set reads it), labelled by aligning each reading "
                        "to its label (ml.training.real)")
    t.add_argument("--real-repeats", type=int, default=5, help="how many times each real box is shown")
    t.set_defaults(handler="models:cmd_train")

    lines = LineTrainConfig()
    lt = sub.add_parser("train-lines", help="train the line reader (CNN + BiLSTM, CTC)", formatter_class=fmt)
    lt.add_argument("--out", default="var/checkpoints/lines.pt", help="line checkpoint path")
    lt.add_argument("--real", default=None,
                    help="a folder of real strings (labels.csv: file, digits); default: the shared "
                         "orand-car-a-train (ml.paths.dataset); '' for synthetic only")
    lt.add_argument("--folds", type=int, default=3, help="folds of the real strings (with --holdout)")
    lt.add_argument("--holdout", type=int, default=None, help="leave this fold out and score it")
    lt.add_argument("--init", default=None, help="start from this line checkpoint's weights")
    lt.add_argument("--epochs", type=int, default=lines.epochs, help="epochs")
    lt.add_argument("--synthetic", type=int, default=lines.synthetic,
                    help="fresh synthetic strings per epoch")
    lt.add_argument("--real-repeats", type=int, default=lines.real_repeats, help="each real string per epoch")
    lt.add_argument("--lr", type=float, default=lines.lr, help="peak learning rate")
    lt.add_argument("--seed", type=int, default=lines.seed, help="random seed")
    lt.add_argument("--context", action="store_true",
                    help="synthetic strings sometimes beside a printed label, dotted leader, operators "
                         "or cell sides (ml.synth.strings)")
    lt.add_argument("--test-strings", type=int, default=2000, help="strings of MNIST test digits to score")
    lt.add_argument("--dry-run", action="store_true", help="two batches, one epoch: checks the pipeline")
    lt.set_defaults(handler="lines:cmd_train_lines")

    e = sub.add_parser("evaluate", help="MNIST test metrics of a checkpoint", formatter_class=fmt)
    e.add_argument("checkpoint")
    e.add_argument("--limit", type=int, default=None, help="evaluate on a random subset of this size")
    e.add_argument("--json", action="store_true", help="print metrics as one JSON object")
    e.set_defaults(handler="models:cmd_evaluate")

    c = sub.add_parser("card", help="a checkpoint's model card in Markdown", formatter_class=fmt)
    c.add_argument("checkpoint")
    c.add_argument("--out", default=None, help="write to this file instead of printing")
    c.set_defaults(handler="models:cmd_card")

    g = sub.add_parser("pages", help="generate evaluation pages from MNIST test digits", formatter_class=fmt)
    g.add_argument("out", help="output folder")
    g.add_argument("--n", type=int, default=100, help="number of pages")
    g.add_argument("--seed", type=int, default=0, help="random seed")
    g.add_argument("--tier", default="photo", choices=TIERS,
                   help="photo-like pages, clean scans, or real-world scenes (cheque, A4 sheet, close-up, "
                        "marker, webcam, hand shadow, form's boxes)")
    g.add_argument("--kind", default=None, choices=SCENE_KINDS,
                   help="with --tier scenes, only scenes of this kind (all kinds in turn by default)")
    g.set_defaults(handler="pages:cmd_pages")

    sp = sub.add_parser("score-pages", help="score read() on generated pages", formatter_class=fmt)
    sp.add_argument("folder")
    sp.add_argument("--checkpoint", default=None, help="checkpoint (default: the shipped model)")
    sp.add_argument("--line-checkpoint", default=None,
                    help="line reader checkpoint (default: the shipped one)")
    sp.add_argument("--no-tesseract", action="store_true", help="do not run Tesseract even if installed")
    sp.add_argument("--json", action="store_true", help="print the full result as JSON")
    sp.add_argument("--without", default="", metavar="STEPS",
                    help="comma-separated pipeline steps to switch off (ablation): "
                         + ", ".join(Steps.names()))
    sp.add_argument("--out", default=None, metavar="FILE", help="also write the full result as JSON")
    sp.add_argument("--gallery", default=None, metavar="DIR",
                    help="write annotated PNGs of the worst pages into DIR")
    sp.add_argument("--worst", type=int, default=12, help="pages in the gallery")
    sp.set_defaults(handler="pages:cmd_score_pages")

    ss = sub.add_parser("score-set", help="score read() on a labelled set of real images",
                        formatter_class=fmt)
    ss.add_argument("folder", help="a folder with labels.csv (file, digits[, source_repo, kind, boxes])")
    ss.add_argument("--labels", default="labels.csv", help="the labels file in the folder")
    ss.add_argument("--checkpoint", default=None, help="checkpoint (default: the shipped model)")
    ss.add_argument("--line-checkpoint", default=None,
                    help="line reader checkpoint (default: the shipped one)")
    ss.add_argument("--no-tesseract", action="store_true", help="do not run Tesseract even if installed")
    ss.add_argument("--json", action="store_true", help="print the full result as JSON")
    ss.add_argument("--without", default="", metavar="STEPS",
                    help="pipeline steps to switch off, as score-pages")
    ss.add_argument("--out", default=None, metavar="FILE", help="also write the full result as JSON")
    ss.add_argument("--gallery", default=None, metavar="DIR", help="annotated PNGs of the worst images")
    ss.add_argument("--worst", type=int, default=12, help="images in the gallery")
    ss.add_argument("--folds", type=int, default=0, help="with --fold: split the set into this many folds")
    ss.add_argument("--fold", type=int, default=None, help="score only this fold (as train-lines splits it)")
    ss.set_defaults(handler="pages:cmd_score_set")

    br = sub.add_parser("bench-read", help="time read() on a phone-sized photo against decoding it",
                        formatter_class=fmt)
    br.add_argument("--size", default="1600x1200", help="photo size WIDTHxHEIGHT")
    br.add_argument("--digits", type=int, default=10, help="digits on the photo")
    br.add_argument("--runs", type=int, default=200, help="timed runs")
    br.add_argument("--seed", type=int, default=0, help="random seed of the photo")
    br.add_argument("--checkpoint", default=None, help="checkpoint (default: the shipped model)")
    br.add_argument("--out", default=None, metavar="FILE", help="also write the figures as JSON")
    br.add_argument("--digit", action="store_true",
                    help="time a 28x28 MNIST digit as stored instead, against its decode + one forward pass")
    br.set_defaults(handler="pages:cmd_bench_read")

    b = sub.add_parser("benchmark", help="compare the six families on MNIST", formatter_class=fmt)
    b.add_argument("--models", default=",".join(bench.families), help="comma-separated families")
    b.add_argument("--epochs", type=int, default=bench.epochs, help="override epochs of torch families")
    b.add_argument("--out", default="var/benchmark", help="output folder")
    b.add_argument("--seed", type=int, default=bench.seed, help="random seed")
    b.add_argument("--limit", type=int, default=bench.limit, help="use a random training subset of this size")
    b.add_argument("--dry-run", action="store_true", help="tiny data, two batches: checks the pipeline")
    b.add_argument("--per-epoch", action="store_true",
                   help="also record test accuracy after every epoch (torch families)")
    b.set_defaults(handler="study:cmd_benchmark")

    a = sub.add_parser("ablate", help="the CNN ablation study: one change to the thesis CNN at a time",
                       formatter_class=fmt)
    a.add_argument("--study", default=",".join(ablation.studies), help="comma-separated studies")
    a.add_argument("--epochs", type=int, default=ablation.epochs,
                   help="epochs per training run (the thesis recipe)")
    a.add_argument("--seeds", type=int, default=ablation.seeds,
                   help="training runs per config, seeds S..S+N-1")
    a.add_argument("--out", default="var/ablation",
                   help="output folder; results already in it for the same settings are reused")
    a.add_argument("--limit", type=int, default=ablation.limit,
                   help="train on a random subset of this size (and test on a fifth of it, at least 200)")
    a.add_argument("--seed", type=int, default=ablation.seed0, help="first random seed")
    a.add_argument("--dry-run", action="store_true", help="two batches per run: checks the pipeline")
    a.add_argument("--jobs", type=int, default=Schedule().jobs,
                   help="training runs at a time, in worker processes sharing the torch threads")
    a.add_argument("--timing", action="store_true",
                   help="train nothing: time every config's training step and test pass in rounds on an "
                        "idle machine, and take the tables' times from that")
    a.add_argument("--report", action="store_true",
                   help="train nothing: rewrite results.json, ablation.md and the figures from the runs "
                        "stored")
    a.add_argument("--until", type=parse_deadline, default=None, metavar="WHEN",
                   help="a deadline (HH:MM, YYYY-MM-DD HH:MM, +90m, +2h): train the runs left longest first, "
                        "starting each only if the timing pass says it ends by then; needs --timing once")
    a.add_argument("--slowdown", type=float, default=None,
                   help="with --until: how much longer a run takes than the idle timing pass says "
                        "(default: --jobs; 1.85-2.2 measured for --jobs 2 on 2 cores)")
    a.add_argument("--timing-rounds", type=int, default=TimingPass().rounds, help="rounds of the timing pass")
    a.add_argument("--timing-batches", type=int, default=TimingPass().batches,
                   help="timed training batches per config and round")
    a.set_defaults(handler="study:cmd_ablate")

    r = sub.add_parser("read", help="read the digits in images", formatter_class=fmt)
    r.add_argument("images", nargs="+", metavar="IMAGE")
    r.add_argument("--checkpoint", default=None, help="checkpoint (default: the shipped model)")
    r.add_argument("--json", action="store_true", help="one JSON object per image, one per line")
    r.add_argument("--annotate", metavar="DIR", default=None, help="write annotated PNGs into DIR")
    r.set_defaults(handler="reading:cmd_read")
    return p
