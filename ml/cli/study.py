"""``benchmark`` and ``ablate``: the study, with progress on stderr and its tables on stdout."""

from __future__ import annotations

import argparse
import sys
import time

from ml.progress import TqdmProgress
from ml.study.ablation.grid import STUDIES
from ml.study.ablation.report import ablation_tables
from ml.study.ablation.run import run_ablation
from ml.study.ablation.schedule import Schedule, StudyError
from ml.study.benchmark import benchmark
from ml.study.benchmark_report import benchmark_table
from ml.study.requests import AblationRequest, BenchmarkRequest, TimingPass


def cmd_benchmark(args: argparse.Namespace) -> int:
    families = tuple(f.strip() for f in args.models.split(",") if f.strip())
    request = BenchmarkRequest(families=families, epochs=args.epochs, limit=args.limit, seed=args.seed,
                               dry_run=args.dry_run, per_epoch=args.per_epoch)
    results = benchmark(request, out=args.out, progress_factory=TqdmProgress, command=args.command_line)
    print(benchmark_table(results))
    if args.out:
        print(f"wrote {args.out}/results.json, results.md, benchmark.png")
    return 0


def _refusal(args: argparse.Namespace, studies: list[str]) -> str | None:
    """Why the ablation cannot start as asked, or None."""
    unknown = [s for s in studies if s not in STUDIES]
    if unknown or not studies:
        return f"unknown study {', '.join(unknown) or '(none given)'}; studies are {', '.join(STUDIES)}"
    if args.slowdown is not None and args.slowdown <= 0:
        return f"--slowdown must be positive, got {args.slowdown}"
    if min(args.epochs, args.seeds, args.timing_rounds, args.timing_batches, args.jobs) < 1:
        return (f"--epochs, --seeds, --timing-rounds, --timing-batches and --jobs must be at least 1, got "
                f"{args.epochs}, {args.seeds}, {args.timing_rounds}, {args.timing_batches} and {args.jobs}")
    return None


def _clock(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment))


def _reporter(args: argparse.Namespace):
    """One line on stderr per event that says where the study stands (a long log stays readable)."""

    def report(event: dict) -> None:
        if event["event"] == "start":
            print(f"{event['total']} training run(s) to do, {event['reused']} reused from "
                  f"{args.out}/results.json", file=sys.stderr)
            if args.until and event["total"]:
                print(f"longest first, each started only if it should end by {_clock(args.until)}",
                      file=sys.stderr)
        elif event["event"] == "timed":
            print(f"timing round {event['round']}/{event['rounds']} {event['key']}: "
                  f"{event['train_ms_per_batch']:.0f} ms/batch", file=sys.stderr, flush=True)
        elif event["event"] == "run":
            print(f"[{event['done']}/{event['total']}] {event['study']} {event['variant']} seed "
                  f"{event['seed']}: {event['accuracy']:.2f}%, "
                  f"{event['train_seconds_per_epoch']:.1f} s/epoch",
                  file=sys.stderr, flush=True)
        elif event["event"] == "done" and event.get("left"):
            print(f"{event['left']} run(s) left, as they would not end by {_clock(args.until)}: the same "
                  f"command resumes them", file=sys.stderr)

    return report


def cmd_ablate(args: argparse.Namespace) -> int:
    studies = [s.strip() for s in args.study.split(",") if s.strip()]
    refusal = _refusal(args, studies)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    request = AblationRequest(studies=tuple(studies), epochs=args.epochs, seeds=args.seeds, limit=args.limit,
                              seed0=args.seed, dry_run=args.dry_run)
    mode = "timing" if args.timing else "report" if args.report else "train"
    try:
        results = run_ablation(request, args.out, mode=mode,
                               schedule=Schedule(jobs=args.jobs, until=args.until, slowdown=args.slowdown),
                               timing=TimingPass(rounds=args.timing_rounds, batches=args.timing_batches),
                               progress_factory=TqdmProgress, on_event=_reporter(args),
                               command=args.command_line)
    except StudyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(ablation_tables(results))
    print(f"wrote {args.out}/results.json, ablation.md, " + ", ".join(f"{s}.png" for s in studies))
    return 0
