"""``python -m ml``: train, evaluate, benchmark and read, per the contract in DESIGN.md."""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import time
from pathlib import Path

from .models import FAMILIES


def _command_line(argv: list[str] | None) -> str:
    return "python -m ml " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))


def cmd_train(args: argparse.Namespace) -> int:
    from .card import model_card
    from .checkpoint import load_checkpoint, save_checkpoint
    from .data import load_mnist
    from .experiments import machine
    from .models import build, count_parameters
    from .progress import TqdmProgress
    from .recipes import recipe
    from .train import evaluate, fit

    spec = recipe(args.recipe, args.model)
    train_over = dict(spec["train"])
    if args.epochs:
        train_over["epochs"] = args.epochs
    model = build(args.model, spec["config"], train_over, seed=args.seed)
    train, test = load_mnist()
    train = train.subset(args.limit, seed=args.seed)
    if args.dry_run:
        test = test.subset(500, seed=args.seed)
    size = f", {count_parameters(model.module):,} parameters" if hasattr(model, "module") else ""
    print(f"training {args.model} ({args.recipe} recipe{size}) on {len(train)} images", file=sys.stderr)
    start = time.perf_counter()
    fit(model, train, progress=TqdmProgress(args.model), seed=args.seed, dry_run=args.dry_run)
    seconds = time.perf_counter() - start
    training = {
        "recipe": args.recipe, "seed": args.seed, "seconds": round(seconds, 1), "dry_run": args.dry_run,
        "command": args.command_line, "data": train.describe(), "machine": machine_line(machine()),
        "train_config": vars(getattr(model, "train_config", argparse.Namespace())),
    }
    out = Path(args.out)
    save_checkpoint(model, out, training=training)
    # Metrics come from the model as saved (half-precision weights), so they are what a reader gets.
    metrics = evaluate(load_checkpoint(out).classifier, test)
    metrics["test_data"] = test.describe()
    save_checkpoint(model, out, training=training, metrics=metrics)
    card = out.with_suffix(".md")
    card.write_text(model_card(load_checkpoint(out).meta, file_name=str(out)))
    print(f"wrote {out} and {card}: test accuracy {100 * metrics['accuracy']:.2f}% "
          f"after {seconds:.0f} s of training")
    return 0


def machine_line(m: dict) -> str:
    return f"{m['processor']}, {m['cpu_threads']} torch threads, {m['platform']}"


def print_metrics(meta: dict, metrics: dict) -> None:
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
    from .checkpoint import load_checkpoint
    from .data import load_mnist
    from .train import evaluate

    model = load_checkpoint(args.checkpoint)
    _, test = load_mnist()
    metrics = evaluate(model.classifier, test.subset(args.limit))
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), **metrics}))
    else:
        print_metrics(model.meta, metrics)
        recorded = model.meta.get("metrics", {}).get("accuracy")
        if recorded is not None:
            print(f"recorded accuracy: {100 * recorded:.2f}%")
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from .card import model_card
    from .checkpoint import load_checkpoint

    text = model_card(load_checkpoint(args.checkpoint).meta, file_name=args.checkpoint)
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def cmd_pages(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .evalset import generate

    with tqdm(total=args.n, desc=f"{args.tier} pages", file=sys.stderr) as bar:
        generate(args.out, n=args.n, seed=args.seed, tier=args.tier, progress=lambda i: bar.update(1))
    print(f"wrote {args.n} {args.tier} pages with ground truth to {args.out}")
    return 0


def cmd_score_pages(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .checkpoint import DEFAULT_CHECKPOINT, load_checkpoint
    from .evalset import score
    from .segment import Steps

    model = load_checkpoint(args.checkpoint or DEFAULT_CHECKPOINT)
    total = len(list(Path(args.folder).glob("page-*.json")))
    off = [name.strip() for name in (args.without or "").split(",") if name.strip()]
    known = [f for f in Steps.__dataclass_fields__]
    unknown = [name for name in off if name not in known]
    if unknown:
        print(f"error: unknown step(s) {', '.join(unknown)}; steps are {', '.join(known)}", file=sys.stderr)
        return 2
    steps = Steps(**{name: False for name in off})
    with tqdm(total=total, desc="scoring", file=sys.stderr) as bar:
        result = score(args.folder, model=model, tesseract=not args.no_tesseract, steps=steps,
                       progress=lambda i: bar.update(1))
    result["without"] = off
    result["model"] = model.name
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))
    if args.gallery:
        from .evalset import gallery

        gallery(args.folder, result["failures"][: args.worst], args.gallery, model=model, steps=steps)
    if args.json:
        print(json.dumps(result))
        return 0
    names = ["digit_accuracy", "exact_pages", "exact_lines", "box_precision", "box_recall", "ms_per_page_p50"]
    systems = [k for k in ("digitscan", "tesseract") if k in result]
    print("| measure | " + " | ".join(systems) + " |")
    print("|---|" + "---:|" * len(systems))
    for name in names:
        cells = []
        for system in systems:
            value = result[system].get(name)
            if value is None:
                cells.append("—")
            else:
                cells.append(f"{value:.1f}" if name.startswith("ms") else f"{100 * value:.2f} %")
        print(f"| {name.replace('_', ' ')} | " + " | ".join(cells) + " |")
    print(f"pages: {result['digitscan']['pages']}; pages not read exactly: {len(result['failures'])}")
    if result.get("by_kind"):
        print("\n| kind | pages | digit accuracy | exact pages | box recall |\n|---|---:|---:|---:|---:|")
        for kind, t in result["by_kind"].items():
            print(f"| {kind} | {t['pages']} | {100 * t['digit_accuracy']:.2f} % "
                  f"| {100 * t['exact_pages']:.1f} % "
                  f"| {100 * t.get('box_recall', 0):.1f} % |")
    print("\nconfidence threshold (digits whose box matched the truth):")
    print("| threshold | flagged uncertain | errors among flagged | errors among the rest | errors caught |")
    print("|---:|---:|---:|---:|---:|")
    for row in result["calibration"]:
        print(f"| {row['threshold']:.2f} | {100 * row['flagged']:.2f} % | {100 * row['error_flagged']:.1f} % "
              f"| {100 * row['error_passed']:.2f} % | {100 * row['errors_caught']:.0f} % |")
    return 0


def cmd_bench_read(args: argparse.Namespace) -> int:
    import cv2
    import numpy as np
    from tqdm import tqdm

    from .checkpoint import DEFAULT_CHECKPOINT, load_checkpoint
    from .data import load_mnist
    from .evalset import phone_photo
    from .experiments import machine
    from .reading import decode_image, read

    width, height = (int(v) for v in args.size.lower().split("x"))
    model = load_checkpoint(args.checkpoint or DEFAULT_CHECKPOINT)
    _, test = load_mnist()
    page, truth = phone_photo(test.images.numpy(), test.labels.numpy(), seed=args.seed,
                              size=(width, height), digits=args.digits)
    ok, jpeg = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 90])
    data = jpeg.tobytes()
    image = decode_image(data)
    for _ in range(5):  # warm-up: first calls allocate and pick kernels
        read(image, model=model)
    decode_ms, read_ms, both_ms, parts = [], [], [], []
    # Interleaved, so a burst of load elsewhere on the machine hits all three alike.
    for _ in tqdm(range(args.runs), desc="bench-read", file=sys.stderr):
        t0 = time.perf_counter()
        decode_image(data)
        t1 = time.perf_counter()
        reading = read(image, model=model)
        t2 = time.perf_counter()
        read(data, model=model)
        t3 = time.perf_counter()
        decode_ms.append((t1 - t0) * 1e3)
        read_ms.append((t2 - t1) * 1e3)
        both_ms.append((t3 - t2) * 1e3)
        parts.append(reading.timings_ms)

    def pct(values: list[float]) -> dict[str, float]:
        return {"p50": round(float(np.percentile(values, 50)), 2),
                "p95": round(float(np.percentile(values, 95)), 2)}

    result = {
        "image": f"{width}x{height} JPEG q90, {len(data) / 1024:.0f} KiB, {args.digits} digits",
        "truth": truth["lines"], "read": reading.line_texts, "runs": args.runs,
        "decode_ms": pct(decode_ms), "read_ms": pct(read_ms), "decode_and_read_ms": pct(both_ms),
        "segment_ms_p50": round(float(np.median([p["segment"] for p in parts])), 2),
        "classify_ms_p50": round(float(np.median([p["classify"] for p in parts])), 2),
        "read_over_decode_p50": round(float(np.median(read_ms) / np.median(decode_ms)), 2),
        "machine": machine_line(machine()), "command": args.command_line,
    }
    print(f"image: {result['image']}; truth {' '.join(truth['lines'])}, read {' '.join(reading.line_texts)}")
    print("| step | p50 ms | p95 ms |\n|---|---:|---:|")
    for name in ("decode_ms", "read_ms", "decode_and_read_ms"):
        print(f"| {name[:-3].replace('_', ' ')} | {result[name]['p50']:.2f} | {result[name]['p95']:.2f} |")
    print(f"read / decode (p50): {result['read_over_decode_p50']:.2f}×; inside read: segment "
          f"{result['segment_ms_p50']:.2f} ms, classify {result['classify_ms_p50']:.2f} ms (p50)")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from .experiments import benchmark, benchmark_table
    from .progress import TqdmProgress

    families = [f.strip() for f in args.models.split(",") if f.strip()]
    results = benchmark(families, out=args.out, epochs=args.epochs, seed=args.seed, dry_run=args.dry_run,
                        limit=args.limit, progress_factory=TqdmProgress, command=args.command_line,
                        per_epoch=args.per_epoch)
    print(benchmark_table(results))
    if args.out:
        print(f"wrote {args.out}/results.json, results.md, benchmark.png")
    return 0


def parse_deadline(text: str, now: float | None = None) -> float:
    """``--until``: ``HH:MM`` (local time, next occurrence), ``YYYY-MM-DD HH:MM``, ``+90m`` or ``+2h``."""
    now = time.time() if now is None else now
    text = text.strip()
    try:
        if text.startswith("+") and text[-1:] in ("m", "h") and float(text[1:-1]) > 0:
            return now + float(text[1:-1]) * (60 if text[-1] == "m" else 3600)
        if len(text) <= 5 and ":" in text:
            clock = datetime.datetime.strptime(text, "%H:%M").time()
            moment = datetime.datetime.combine(datetime.date.fromtimestamp(now), clock).timestamp()
            return moment if moment > now else moment + 86400  # noon tomorrow, if noon has passed
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a deadline: give HH:MM, YYYY-MM-DD HH:MM, +90m or +2h")


def cmd_ablate(args: argparse.Namespace) -> int:
    from .ablation import STUDIES, StudyError, ablation_tables, run_ablation
    from .progress import TqdmProgress

    studies = [s.strip() for s in args.study.split(",") if s.strip()]
    unknown = [s for s in studies if s not in STUDIES]
    if unknown or not studies:
        print(f"error: unknown study {', '.join(unknown) or '(none given)'}; studies are "
              f"{', '.join(STUDIES)}", file=sys.stderr)
        return 2
    if args.slowdown is not None and args.slowdown <= 0:
        print(f"error: --slowdown must be positive, got {args.slowdown}", file=sys.stderr)
        return 2
    if min(args.epochs, args.seeds, args.timing_rounds, args.timing_batches, args.jobs) < 1:
        print(f"error: --epochs, --seeds, --timing-rounds, --timing-batches and --jobs must be at least 1, "
              f"got {args.epochs}, {args.seeds}, {args.timing_rounds}, {args.timing_batches} and {args.jobs}",
              file=sys.stderr)
        return 2

    def report(event: dict) -> None:
        # One line per finished training run, so a long log shows where the study stands.
        if event["event"] == "start":
            print(f"{event['total']} training run(s) to do, {event['reused']} reused from "
                  f"{args.out}/results.json", file=sys.stderr)
            if args.until and event["total"]:
                print(f"longest first, each started only if it should end by {clock(args.until)}",
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
            print(f"{event['left']} run(s) left, as they would not end by {clock(args.until)}: the same "
                  f"command resumes them", file=sys.stderr)

    def clock(moment: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment))

    try:
        results = run_ablation(studies, epochs=args.epochs, seeds=args.seeds, out=args.out, limit=args.limit,
                               seed0=args.seed, progress_factory=TqdmProgress, dry_run=args.dry_run,
                               command=args.command_line, on_event=report, timing=args.timing,
                               timing_rounds=args.timing_rounds, timing_batches=args.timing_batches,
                               train=not args.report, jobs=args.jobs, until=args.until,
                               slowdown=args.slowdown)
    except StudyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(ablation_tables(results))
    print(f"wrote {args.out}/results.json, ablation.md, " + ", ".join(f"{s}.png" for s in studies))
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    from .checkpoint import DEFAULT_CHECKPOINT, load_checkpoint
    from .reading import ImageError, annotate, decode_image, read

    model = load_checkpoint(args.checkpoint or DEFAULT_CHECKPOINT)
    failures = 0
    for name in args.images:
        try:
            image = decode_image(Path(name).read_bytes())
        except (OSError, ImageError) as exc:
            print(f"error: {name}: {exc.strerror if isinstance(exc, OSError) else exc}", file=sys.stderr)
            failures += 1
            continue
        reading = read(image, model=model)
        annotated_path = None
        if args.annotate:
            import cv2

            folder = Path(args.annotate)
            folder.mkdir(parents=True, exist_ok=True)
            annotated_path = folder / f"{Path(name).stem}.annotated.png"
            cv2.imwrite(str(annotated_path), annotate(image, reading))
        if args.json:
            record = {"file": name, **reading.to_dict()}
            if annotated_path:
                record["annotated"] = str(annotated_path)
            print(json.dumps(record), flush=True)
        else:
            print(f"{name}: {reading.text or '(no digits found)'}")
            for line in reading.lines:
                confs = " ".join(f"{d.digit}{'?' if d.uncertain else ''}({d.confidence:.2f})" for d in line)
                print(f"  {confs}")
            if annotated_path:
                print(f"  annotated image: {annotated_path}")
    if failures:
        print(f"{failures} of {len(args.images)} file(s) could not be read", file=sys.stderr)
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    p = argparse.ArgumentParser(prog="python -m ml", description=__doc__, formatter_class=fmt)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and write a checkpoint", formatter_class=fmt)
    t.add_argument("--model", default="cnn", choices=FAMILIES, help="model family")
    t.add_argument("--recipe", default="served", choices=("served", "thesis"),
                   help="served = the CNN DigitScan serves; thesis = the study's configuration")
    t.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    t.add_argument("--out", default="var/checkpoints/model.pt", help="checkpoint path")
    t.add_argument("--seed", type=int, default=0, help="random seed")
    t.add_argument("--limit", type=int, default=None, help="train on a random subset of this size")
    t.add_argument("--dry-run", action="store_true", help="two batches, one epoch: checks the pipeline")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="MNIST test metrics of a checkpoint", formatter_class=fmt)
    e.add_argument("checkpoint")
    e.add_argument("--limit", type=int, default=None, help="evaluate on a random subset of this size")
    e.add_argument("--json", action="store_true", help="print metrics as one JSON object")
    e.set_defaults(func=cmd_evaluate)

    c = sub.add_parser("card", help="a checkpoint's model card in Markdown", formatter_class=fmt)
    c.add_argument("checkpoint")
    c.add_argument("--out", default=None, help="write to this file instead of printing")
    c.set_defaults(func=cmd_card)

    g = sub.add_parser("pages", help="generate evaluation pages from MNIST test digits", formatter_class=fmt)
    g.add_argument("out", help="output folder")
    g.add_argument("--n", type=int, default=100, help="number of pages")
    g.add_argument("--seed", type=int, default=0, help="random seed")
    g.add_argument("--tier", default="photo", choices=("photo", "clean", "scenes"),
                   help="photo-like pages, clean scans, or real-world scenes (cheque, A4 sheet, close-up, "
                        "marker, webcam, hand shadow)")
    g.set_defaults(func=cmd_pages)

    sp = sub.add_parser("score-pages", help="score read() on generated pages", formatter_class=fmt)
    sp.add_argument("folder")
    sp.add_argument("--checkpoint", default=None, help="checkpoint (default: the shipped model)")
    sp.add_argument("--no-tesseract", action="store_true", help="do not run Tesseract even if installed")
    sp.add_argument("--json", action="store_true", help="print the full result as JSON")
    sp.add_argument("--without", default="", metavar="STEPS",
                    help="comma-separated pipeline steps to switch off (ablation): rescale, background, "
                         "edge_trend, rules, hysteresis, fragments, merge, filter, cut, rotated_lines, "
                         "faint, choose")
    sp.add_argument("--out", default=None, metavar="FILE", help="also write the full result as JSON")
    sp.add_argument("--gallery", default=None, metavar="DIR",
                    help="write annotated PNGs of the worst pages into DIR")
    sp.add_argument("--worst", type=int, default=12, help="pages in the gallery")
    sp.set_defaults(func=cmd_score_pages)

    br = sub.add_parser("bench-read", help="time read() on a phone-sized photo against decoding it",
                        formatter_class=fmt)
    br.add_argument("--size", default="1600x1200", help="photo size WIDTHxHEIGHT")
    br.add_argument("--digits", type=int, default=10, help="digits on the photo")
    br.add_argument("--runs", type=int, default=200, help="timed runs")
    br.add_argument("--seed", type=int, default=0, help="random seed of the photo")
    br.add_argument("--checkpoint", default=None, help="checkpoint (default: the shipped model)")
    br.add_argument("--out", default=None, metavar="FILE", help="also write the figures as JSON")
    br.set_defaults(func=cmd_bench_read)

    b = sub.add_parser("benchmark", help="compare the six families on MNIST", formatter_class=fmt)
    b.add_argument("--models", default=",".join(FAMILIES), help="comma-separated families")
    b.add_argument("--epochs", type=int, default=None, help="override epochs of torch families")
    b.add_argument("--out", default="var/benchmark", help="output folder")
    b.add_argument("--seed", type=int, default=0, help="random seed")
    b.add_argument("--limit", type=int, default=None, help="use a random training subset of this size")
    b.add_argument("--dry-run", action="store_true", help="tiny data, two batches: checks the pipeline")
    b.add_argument("--per-epoch", action="store_true",
                   help="also record test accuracy after every epoch (torch families)")
    b.set_defaults(func=cmd_benchmark)

    from .ablation import STUDIES

    a = sub.add_parser("ablate", help="the CNN ablation study: one change to the thesis CNN at a time",
                       formatter_class=fmt)
    a.add_argument("--study", default=",".join(STUDIES), help="comma-separated studies")
    a.add_argument("--epochs", type=int, default=10, help="epochs per training run (the thesis recipe)")
    a.add_argument("--seeds", type=int, default=3, help="training runs per config, seeds S..S+N-1")
    a.add_argument("--out", default="var/ablation",
                   help="output folder; results already in it for the same settings are reused")
    a.add_argument("--limit", type=int, default=None,
                   help="train on a random subset of this size (and test on a fifth of it, at least 200)")
    a.add_argument("--seed", type=int, default=0, help="first random seed")
    a.add_argument("--dry-run", action="store_true", help="two batches per run: checks the pipeline")
    a.add_argument("--jobs", type=int, default=1,
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
    a.add_argument("--timing-rounds", type=int, default=3, help="rounds of the timing pass")
    a.add_argument("--timing-batches", type=int, default=6,
                   help="timed training batches per config and round")
    a.set_defaults(func=cmd_ablate)

    r = sub.add_parser("read", help="read the digits in images", formatter_class=fmt)
    r.add_argument("images", nargs="+", metavar="IMAGE")
    r.add_argument("--checkpoint", default=None, help="checkpoint (default: the shipped model)")
    r.add_argument("--json", action="store_true", help="one JSON object per image, one per line")
    r.add_argument("--annotate", metavar="DIR", default=None, help="write annotated PNGs into DIR")
    r.set_defaults(func=cmd_read)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.command_line = _command_line(argv)
    from .checkpoint import CheckpointError
    from .data import DataNotFoundError

    try:
        return args.func(args)
    except (CheckpointError, DataNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
