"""``pages``, ``score-pages`` and ``bench-read``: the reading study's evaluation sets, their scores, and
the speed of ``read``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from ml.models.checkpoint import load_checkpoint
from ml.models.linemodel import load_line_model
from ml.paths import DEFAULT_CHECKPOINT
from ml.reading.linereader import default_line_model
from ml.reading.params import Steps
from ml.study.bench_read import bench_digit, bench_read, bench_table
from ml.study.gallery import gallery
from ml.study.score_pages import score, score_tables
from ml.study.score_sets import load_labels, score_set, score_set_tables
from ml.synth.evalset import generate
from ml.training.lines import fold_of


def cmd_pages(args: argparse.Namespace) -> int:
    with tqdm(total=args.n, desc=f"{args.tier} pages", file=sys.stderr) as bar:
        generate(args.out, n=args.n, seed=args.seed, tier=args.tier, progress=lambda i: bar.update(1),
                 kinds=(args.kind,) if args.kind else None)
    print(f"wrote {args.n} {args.tier} pages with ground truth to {args.out}")
    return 0


def _steps_without(names: str) -> Steps | None:
    """``Steps`` with the comma-separated steps off, or None (after saying why) for an unknown one."""
    off = [name.strip() for name in (names or "").split(",") if name.strip()]
    unknown = [name for name in off if name not in Steps.names()]
    if unknown:
        print(f"error: unknown step(s) {', '.join(unknown)}; steps are {', '.join(Steps.names())}",
              file=sys.stderr)
        return None
    return Steps(**{name: False for name in off})


def _write(path: str | None, result: dict) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(result, indent=1))


def _score(args: argparse.Namespace, total: int, run, tables) -> int:
    """Score ``args.folder`` with ``run(model=, steps=, tesseract=, progress=)`` and report it: the JSON
    (``--out``, ``--json``), the worst images drawn (``--gallery``), or ``tables`` of the result."""
    steps = _steps_without(args.without)
    if steps is None:
        return 2
    model = load_checkpoint(args.checkpoint or DEFAULT_CHECKPOINT)
    lines = load_line_model(args.line_checkpoint) if args.line_checkpoint else None
    with tqdm(total=total, desc="scoring", file=sys.stderr) as bar:
        result = run(model=model, steps=steps, tesseract=not args.no_tesseract,
                     progress=lambda i: bar.update(1), line_model=lines)
    result["without"] = [name for name in Steps.names() if not getattr(steps, name)]
    result["model"] = model.name
    served_lines = lines or default_line_model()
    result["line_model"] = served_lines.name if steps.lines and served_lines else None
    _write(args.out, result)
    if args.gallery:
        gallery(args.folder, result["failures"][: args.worst], args.gallery, model=model, steps=steps,
                line_model=lines)
    print(json.dumps(result) if args.json else tables(result))
    return 0


def cmd_score_pages(args: argparse.Namespace) -> int:
    total = len(list(Path(args.folder).glob("page-*.json")))
    return _score(args, total, lambda **kw: score(args.folder, **kw), score_tables)


def cmd_score_set(args: argparse.Namespace) -> int:
    only = None
    if args.fold is not None:
        if not args.folds:
            print("--fold needs --folds", file=sys.stderr)
            return 2
        only = lambda image: fold_of(image.path.name, args.folds) == args.fold  # noqa: E731
    total = sum(1 for image in load_labels(args.folder, args.labels) if only is None or only(image))
    run = lambda **kw: score_set(args.folder, labels=args.labels, only=only, **kw)
    return _score(args, total, run, score_set_tables)


def cmd_bench_read(args: argparse.Namespace) -> int:
    width, height = (int(v) for v in args.size.lower().split("x"))
    model = load_checkpoint(args.checkpoint or DEFAULT_CHECKPOINT)
    if args.digit:
        result = bench_digit(runs=args.runs, model=model,
                             wrap=lambda runs: tqdm(runs, desc="bench", file=sys.stderr))
        print(f"{result['image']}: read {result['read']} (truth {result['truth']}); p50 decode "
              f"{result['decode_ms']['p50']:.2f} ms, one forward pass {result['forward_ms']['p50']:.2f} ms, "
              f"read {result['read_ms']['p50']:.2f} ms: {result['read_over_decode_and_forward_p50']:.2f}× "
              f"decode + forward")
        _write(args.out, result)
        return 0
    result = bench_read(size=(width, height), digits=args.digits, runs=args.runs, seed=args.seed, model=model,
                        wrap=lambda runs: tqdm(runs, desc="bench-read", file=sys.stderr),
                        command=args.command_line)
    print(bench_table(result))
    _write(args.out, result)
    return 0
