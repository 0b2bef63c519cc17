"""The CNN ablation study: which parts of the thesis network earn their keep.

Six studies each change one thing of the full thesis CNN (``CNNConfig()``: channels 32/64, kernels
5/3, max pooling, two conv blocks, a 256-wide linear layer, dropout 0.25): pooling, the second conv
block, channel widths, the linear width, kernel size and dropout. Every variant is trained with the
thesis recipe (10 epochs, batch 512, Adam 1e-3) once per seed and tested on MNIST's 10,000 test images.
``run_ablation`` writes ``results.json``, ``ablation.md`` (one table per study) and one ``<study>.png``
per study, and picks up where an interrupted run stopped.

>>> from ml.ablation import run_ablation
>>> results = run_ablation(["pool"], epochs=1, seeds=1, limit=600, out="var/tiny")  # doctest: +SKIP
>>> [row["variant"] for row in results["studies"]["pool"]]                           # doctest: +SKIP
['max', 'avg', 'none']
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .data import Split, load_mnist
from .experiments import machine
from .models import CNNConfig, TrainConfig, build, count_parameters
from .train import Progress, evaluate, fit

Overrides = dict[str, Any]


class StudyError(ValueError):
    """A study that cannot start as asked (the command line reports it and exits 2)."""

Event = Callable[[dict[str, Any]], None]

# Each study is an ordered list of (variant label, CNNConfig overrides). Every study includes the full
# network, so each table has its reference row; it is trained once per seed and shared by all studies.
STUDIES: dict[str, list[tuple[str, Overrides]]] = {
    "pool": [("max", {"pool": "max"}), ("avg", {"pool": "avg"}), ("none", {"pool": "none"})],
    "layers": [("2 blocks", {"blocks": 2}), ("1 block", {"blocks": 1})],
    "channels": [("16/32", {"channels": (16, 32)}), ("32/64", {"channels": (32, 64)}),
                 ("64/128", {"channels": (64, 128)})],
    "linear": [("128", {"linear": 128}), ("256", {"linear": 256}), ("512", {"linear": 512})],
    # The uniform sizes apply to both blocks. The full network mixes them (5×5, then 3×3 at half
    # resolution), so it is none of the three and is shown as an extra reference row first.
    "kernel": [("5/3", {"kernel": (5, 3)}), ("3×3", {"kernel": (3, 3)}), ("5×5", {"kernel": (5, 5)}),
               ("7×7", {"kernel": (7, 7)})],
    "dropout": [("0", {"dropout": 0.0}), ("0.25", {"dropout": 0.25}), ("0.5", {"dropout": 0.5})],
}
STUDY_TITLES = {
    "pool": "Pooling after each conv block", "layers": "Second conv + pool block",
    "channels": "Channels of block 1 / block 2", "linear": "Width of the hidden linear layer",
    "kernel": "Kernel size (both blocks)", "dropout": "Dropout after each conv block",
}
FULL = "full"  # the key of CNNConfig() itself
# What must match for a stored (config, seed) result to be reused instead of retrained.
RECIPE_FIELDS = ("epochs", "limit", "dry_run", "test_samples")


def config_key(overrides: Overrides) -> str:
    """A canonical name for a CNN config: its fields that differ from the full network, sorted.

    Different spellings of one network (``{}``, ``{"pool": "max"}``, ``{"kernel": (5, 3)}``) get
    the same key, ``"full"``, which is what lets it be trained once and shared across studies.
    """
    config, full = asdict(CNNConfig.from_dict(dict(overrides))), asdict(CNNConfig())

    def text(value: Any) -> str:
        return "/".join(map(str, value)) if isinstance(value, tuple) else str(value)

    return ",".join(f"{k}={text(v)}" for k, v in sorted(config.items()) if v != full[k]) or FULL


def count_flops(module: nn.Module) -> int:
    """FLOPs of one forward pass on a 1×1×28×28 image: 2 × the multiply-adds of Conv2d and Linear.

    Biases, activations, pooling, dropout and normalisation are not counted: together they are well
    under 1% of the convolutions' work here. Forward hooks see the real output shapes, so padding,
    pooling and the number of blocks need no separate bookkeeping.
    """
    macs = 0

    def conv(layer: nn.Conv2d, _: Any, output: torch.Tensor) -> None:
        nonlocal macs
        # Each output value is a dot product over (in_channels / groups) × kh × kw inputs.
        macs += output.numel() * (layer.in_channels // layer.groups) * math.prod(layer.kernel_size)

    def linear(layer: nn.Linear, _: Any, output: torch.Tensor) -> None:
        nonlocal macs
        macs += output.numel() * layer.in_features

    hooks = [m.register_forward_hook(conv if isinstance(m, nn.Conv2d) else linear)
             for m in module.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros(1, 1, 28, 28))
    finally:
        for hook in hooks:
            hook.remove()
        module.train(training)
    return 2 * macs


def describe(overrides: Overrides) -> dict[str, Any]:
    """The size of one config, before any training: its full config, parameters and FLOPs per image."""
    model = build("cnn", overrides)
    return {"config": model.model_config, "parameters": count_parameters(model.module),
            "flops": count_flops(model.module), "seeds": {}}


def train_one(overrides: Overrides, seed: int, train: Split, test: Split, *, epochs: int,
              dry_run: bool = False, progress: Progress | None = None) -> dict[str, float]:
    """Train one config with the thesis recipe and one seed; its times and test accuracy (%)."""
    model = build("cnn", overrides, {"epochs": epochs}, seed=seed)
    start = time.perf_counter()
    fit(model, train, progress=progress or (lambda e: None), seed=seed, dry_run=dry_run)
    seconds = time.perf_counter() - start
    metrics = evaluate(model, test)
    done_epochs = 1 if dry_run else epochs  # a dry run is one epoch of two batches, whatever epochs says
    return {"train_seconds": round(seconds, 2), "train_seconds_per_epoch": round(seconds / done_epochs, 3),
            "test_seconds": metrics["seconds"], "accuracy": round(100 * metrics["accuracy"], 4)}


def _splits(limit: int | None, seed0: int) -> tuple[Split, Split]:
    """The training split and the test split the study uses (a fifth of ``limit``, at least 200)."""
    train_all, test = load_mnist()
    if limit:
        test = test.subset(max(limit // 5, 200), seed=seed0)
    return train_all, test


# A worker process's MNIST splits, loaded once per process (see _train_in_worker).
_WORKER_DATA: dict[tuple, tuple[Split, Split]] = {}


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


def _train_in_worker(overrides: Overrides, seed: int, *, limit: int | None, seed0: int, epochs: int,
                     dry_run: bool, progress_factory: Callable[[str], Progress] | None,
                     label: str) -> dict[str, float]:
    """``train_one`` in a worker process of ``run_ablation(jobs=N)``, on the same splits as in-process."""
    if (limit, seed0) not in _WORKER_DATA:
        _WORKER_DATA[limit, seed0] = _splits(limit, seed0)
    train_all, test = _WORKER_DATA[limit, seed0]
    train = train_all.subset(limit, seed=seed) if limit else train_all
    progress = progress_factory(label) if progress_factory else None
    return train_one(overrides, seed, train, test, epochs=epochs, dry_run=dry_run, progress=progress)


def summarise(entry: dict[str, Any], seeds: list[int]) -> dict[str, Any]:
    """Mean and sample std (ddof=1; 0 for one seed) of one config over the seeds done so far."""
    done = [(s, entry["seeds"][str(s)]) for s in seeds if str(s) in entry["seeds"]]

    def mean(name: str) -> float | None:
        return round(statistics.fmean(r[name] for _, r in done), 4) if done else None

    accuracy = [r["accuracy"] for _, r in done]
    return {
        "parameters": entry["parameters"], "flops": entry["flops"], "seeds_done": len(done),
        "accuracy_mean": mean("accuracy"),
        "accuracy_std": round(statistics.stdev(accuracy), 4) if len(done) > 1 else (0.0 if done else None),
        "train_seconds_per_epoch": mean("train_seconds_per_epoch"), "test_seconds": mean("test_seconds"),
        "per_seed": [{"seed": s, **r} for s, r in done],
    }


def versus_full(accuracy: list[float], reference: list[float]) -> dict[str, Any] | None:
    """A variant's mean accuracy minus the full network's, in points, with Welch's two-sided t-test.

    ``p`` and the 95 % interval ``ci95`` of the difference need two seeds on each side (None before);
    with three seeds each, a p below 0.05 takes a difference of about three standard deviations.
    No correction for the dozen comparisons of the study is applied: read a lone p near 0.05 as a hint.
    """
    if not accuracy or not reference:
        return None
    delta = statistics.fmean(accuracy) - statistics.fmean(reference)
    result: dict[str, Any] = {"delta": round(delta, 4), "p": None, "ci95": None}
    if len(accuracy) < 2 or len(reference) < 2:
        return result
    from scipy import stats

    va, vb = statistics.variance(accuracy) / len(accuracy), statistics.variance(reference) / len(reference)
    se = math.sqrt(va + vb)
    if se == 0:  # identical seeds on both sides: only a difference of exactly zero is "no difference"
        result["p"] = 1.0 if delta == 0 else 0.0
        result["ci95"] = [round(delta, 4), round(delta, 4)]
        return result
    # Welch–Satterthwaite degrees of freedom (the variants' spreads need not be equal).
    df = (va + vb) ** 2 / (va**2 / (len(accuracy) - 1) + vb**2 / (len(reference) - 1))
    half = float(stats.t.ppf(0.975, df)) * se
    result["p"] = round(float(2 * stats.t.sf(abs(delta) / se, df)), 4)
    result["ci95"] = [round(delta - half, 4), round(delta + half, 4)]
    return result


def compare_to_full(rows: list[dict]) -> list[dict]:
    """Each row of a study with ``versus_full`` against the study's reference row (None on that row).

    Rows are changed in place; one without ``per_seed`` (nothing trained yet) counts as no seeds.
    """
    ref = next((r for r in rows if r.get("reference")), None)
    base = [s["accuracy"] for s in (ref or {}).get("per_seed") or []]
    for row in rows:
        mine = [s["accuracy"] for s in row.get("per_seed") or []]
        row["versus_full"] = None if row is ref else versus_full(mine, base)
    return rows


def _previous_runs(path: Path, recipe: dict[str, Any]) -> dict[str, Any]:
    """Runs stored by an earlier call with the same recipe; a file from another recipe is set aside."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    if {k: old.get(k) for k in RECIPE_FIELDS} == recipe:
        return old.get("runs", {})
    # Never silently overwrite hours of training done with other settings: keep it beside the new file.
    path.replace(path.with_name("results.replaced.json"))
    return {}


def _previous_timing(path: Path) -> dict[str, Any] | None:
    """The timing pass stored in ``path``, if any (it does not depend on epochs or seeds)."""
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("timing")


def time_configs(configs: dict[str, Overrides], train: Split, test: Split, *, rounds: int = 3,
                 batches: int = 6, on_event: Event | None = None) -> dict[str, Any]:
    """Time every config's training step and test pass the same way, on a quiet machine.

    The training runs of a study take hours, and wall time per run picks up whatever else the
    machine did meanwhile. Here every config trains ``batches`` batches of the thesis recipe (after
    one batch of warm-up) and predicts ``test``, round after round, each round in a rotated order;
    a config's time is its median over the rounds, and its ratio to the full network is the median
    of the per-round ratios, so slow drift of the machine affects all configs alike.
    """
    emit = on_event or (lambda e: None)
    keys = list(configs)
    batch = TrainConfig().batch_size
    sample = train.subset(min(batches * batch, len(train)), seed=0)
    batches = math.ceil(len(sample) / batch)
    warm = train.subset(min(batch, len(train)), seed=1)
    times: dict[str, dict[str, list[float]]] = {k: {"train": [], "test": []} for k in keys}
    for r in range(rounds):
        for key in keys[r % len(keys):] + keys[: r % len(keys)]:
            model = build("cnn", configs[key], {"epochs": 1}, seed=r)
            fit(model, warm, seed=r)
            start = time.perf_counter()
            fit(model, sample, seed=r)
            times[key]["train"].append((time.perf_counter() - start) / batches)
            times[key]["test"].append(evaluate(model, test)["seconds"])
            emit({"event": "timed", "round": r + 1, "rounds": rounds, "key": key,
                  "train_ms_per_batch": round(1e3 * times[key]["train"][-1], 1)})
    per_epoch = math.ceil(len(train) / batch)
    reference = FULL if FULL in times else keys[0]

    def ratio(key: str, kind: str) -> float:
        return round(statistics.median(a / b for a, b in zip(times[key][kind], times[reference][kind])), 3)

    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine(), "rounds": rounds,
        "batches": batches, "batch_size": batch, "batches_per_epoch": per_epoch,
        "test_samples": len(test), "reference": reference,
        "configs": {k: {"train_ms_per_batch": [round(1e3 * t, 2) for t in times[k]["train"]],
                        "train_seconds_per_epoch": round(statistics.median(times[k]["train"]) * per_epoch, 2),
                        "train_ratio": ratio(k, "train"),
                        "test_seconds": round(statistics.median(times[k]["test"]), 3),
                        "test_ratio": ratio(k, "test")} for k in keys},
    }


def estimate_seconds(timing: dict[str, Any] | None, key: str, epochs: int) -> float | None:
    """A training run's wall time on an idle machine, by the timing pass: the epochs and one test pass."""
    config = (timing or {}).get("configs", {}).get(key)
    if config is None:
        return None
    return config["train_seconds_per_epoch"] * epochs + config["test_seconds"]


def _write_json(path: Path, results: dict) -> None:
    # Write then rename, so an interrupt mid-write never leaves a half file that breaks resuming.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=1))
    os.replace(tmp, path)


def run_ablation(studies: list[str] | tuple[str, ...] = tuple(STUDIES), *, epochs: int = 10, seeds: int = 3,
                 out: str | Path, limit: int | None = None, seed0: int = 0,
                 progress_factory: Callable[[str], Progress] | None = None, dry_run: bool = False,
                 command: str = "", on_event: Event | None = None, timing: bool = False,
                 timing_rounds: int = 3, timing_batches: int = 6, train: bool = True, jobs: int = 1,
                 until: float | None = None, slowdown: float | None = None) -> dict:
    """Run ``studies`` over seeds ``seed0 .. seed0 + seeds - 1``; writes into ``out`` and returns results.

    ``limit`` trains on a random subset per seed and tests on ``max(limit // 5, 200)`` test images (as
    ``benchmark`` does: a quick run should not spend most of its time testing); without it the
    full 60k / 10k splits are used. Results already in ``out/results.json`` for the same epochs,
    limit and dry_run are reused, and the file is rewritten after every training run.
    ``on_event`` receives ``{"event": "start" | "run" | "done", ...}``; ``progress_factory(label)``
    gives the per-run training progress callback (tqdm bars on the command line).

    ``timing=True`` trains nothing: it runs :func:`time_configs` (``timing_rounds`` rounds of
    ``timing_batches`` batches per config) and stores it beside the runs; the tables then take
    their times from it. Run it on an otherwise idle machine. ``train=False`` only rewrites
    results.json, the tables and the figures from what is stored (a study stopped part way).

    ``jobs=N`` trains N runs at a time in worker processes, the torch threads shared out between them
    (on 2 cores, two 1-thread runs finish about 1.2× as many runs per hour as one 2-thread run). Each
    run's own training time is then inflated by the others; the tables' times come from the timing
    pass, which never runs in parallel. ``progress_factory`` must then be picklable (a class).

    ``until`` (a ``time.time()`` deadline) is for a study that spans working sessions, where a run
    still going at the end is lost: the runs left are trained longest first, and one is started only
    if its timing-pass estimate × ``slowdown`` ends before ``until`` (``slowdown`` defaults to
    ``jobs``: a run given 1/jobs of the threads takes about jobs times as long; measured 1.85–2.2 for
    two 1-thread runs on 2 cores). It needs the timing pass. The runs that would not fit are left
    for the next call, and counted in the ``done`` event's ``left``.
    """
    unknown = [s for s in studies if s not in STUDIES]
    if unknown or not studies:
        raise ValueError(f"unknown studies {unknown}; choose from {', '.join(STUDIES)}")
    if epochs < 1 or seeds < 1:
        raise ValueError(f"epochs and seeds must be at least 1, got epochs={epochs}, seeds={seeds}")
    emit = on_event or (lambda e: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seed_list = list(range(seed0, seed0 + seeds))
    train_all, test = _splits(limit, seed0)
    recipe = {"epochs": epochs, "limit": limit, "dry_run": dry_run, "test_samples": len(test)}
    stored_timing = _previous_timing(out / "results.json")
    if (timing or not train) and (out / "results.json").exists():
        # A report or a timing pass trains nothing: the runs, and the command, stay the training's.
        command = json.loads((out / "results.json").read_text()).get("command") or command
    runs = _previous_runs(out / "results.json", recipe)

    # Every distinct (config, seed) once, remembering where it first appears. Seed by seed: a run
    # stopped part way (the full study takes many CPU-hours) still covers every study with the seeds
    # done, rather than some studies completely and others not at all.
    plan: dict[tuple[str, int], tuple[str, str, Overrides]] = {}
    for seed in seed_list:
        for study in studies:
            for label, overrides in STUDIES[study]:
                key = config_key(overrides)
                if key not in runs:
                    runs[key] = describe(overrides)
                plan.setdefault((key, seed), (study, label, overrides))
    todo = [(key, seed) for key, seed in plan if str(seed) not in runs[key]["seeds"]]
    if timing:
        configs = {config_key(o): o for study in studies for _, o in STUDIES[study]}
        configs = {FULL: {}, **configs} if FULL in configs else configs
        subset = train_all.subset(limit, seed=seed0) if limit else train_all
        stored_timing = time_configs(configs, subset, test, rounds=timing_rounds, batches=timing_batches,
                                     on_event=emit)
    if timing or not train:
        todo = []

    estimates = {key: estimate_seconds(stored_timing, key, epochs) for key, _ in todo}
    factor = slowdown if slowdown is not None else float(jobs)
    if until is not None and todo:
        untimed = sorted(key for key, seconds in estimates.items() if seconds is None)
        if untimed:
            raise StudyError(f"a deadline needs every run's time from the timing pass, and "
                             f"{', '.join(untimed)} has none in {out / 'results.json'}: run --timing first")
        # Longest first: the long runs start while there is still time for them; short ones fill the end.
        todo.sort(key=lambda run: -estimates[run[0]])

    def fits(key: str) -> bool:
        return until is None or time.time() + estimates[key] * factor <= until

    emit({"event": "start", "total": len(todo), "reused": len(plan) - len(todo), "runs": len(plan)})

    def results() -> dict:
        return {
            "kind": "ablation", "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": command,
            "machine": machine(), **recipe, "seeds": seed_list,
            "train_samples": min(limit, len(train_all)) if limit else len(train_all),
            "train_config": vars(TrainConfig(epochs=epochs)),
            "complete": all(str(s) in runs[k]["seeds"] for k, s in plan),
            "studies": {study: compare_to_full([
                {"variant": label, "key": config_key(o), "reference": config_key(o) == FULL, "overrides": o,
                 **summarise(runs[config_key(o)], seed_list),
                 "timing": (stored_timing or {}).get("configs", {}).get(config_key(o))}
                for label, o in STUDIES[study]]) for study in studies},
            "runs": runs,
            **({"timing": stored_timing} if stored_timing else {}),
        }

    def record(done: int, key: str, seed: int, row: dict[str, float]) -> None:
        study, label, _ = plan[key, seed]
        runs[key]["seeds"][str(seed)] = row
        _write_json(out / "results.json", results())
        emit({"event": "run", "done": done, "total": len(todo), "study": study, "variant": label,
              "key": key, "seed": seed, **row})

    pending = list(todo)

    def next_run() -> tuple[str, int] | None:
        # The first run in order that still fits (without a deadline, simply the next one). A run that
        # does not fit now never will, but a shorter one after it may.
        for i, (key, _) in enumerate(pending):
            if fits(key):
                return pending.pop(i)
        return None

    done = 0
    parallel = jobs > 1 and len(todo) > 1
    if parallel:
        threads = max(1, torch.get_num_threads() // jobs)
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_init, initargs=(threads,))
        try:
            running: dict[Any, tuple[str, int]] = {}

            def start() -> None:  # at most ``jobs`` runs at a time, each chosen when a worker frees up
                while len(running) < jobs and (run := next_run()) is not None:
                    study, label, overrides = plan[run]
                    running[pool.submit(_train_in_worker, overrides, run[1], limit=limit, seed0=seed0,
                                        epochs=epochs, dry_run=dry_run, progress_factory=progress_factory,
                                        label=f"{study} {label} seed {run[1]}")] = run

            start()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    done += 1
                    record(done, *running.pop(future), future.result())
                start()
        finally:
            # A failed run stops the study: runs not started are dropped, finished ones are kept.
            pool.shutdown(wait=True, cancel_futures=True)
    subsets: dict[int, Split] = {}
    while not parallel and (run := next_run()) is not None:
        key, seed = run
        done += 1
        study, label, overrides = plan[key, seed]
        # One training subset per seed, the same for every config, so configs differ only in config.
        if seed not in subsets:
            subsets[seed] = train_all.subset(limit, seed=seed)
        train = subsets[seed]
        progress = progress_factory(f"{study} {label} seed {seed}") if progress_factory else None
        record(done, key, seed, train_one(overrides, seed, train, test, epochs=epochs, dry_run=dry_run,
                                          progress=progress))
    final = results()
    _write_json(out / "results.json", final)
    write_report(final, out)
    emit({"event": "done", "total": len(todo), "left": len(pending), "complete": final["complete"]})
    return final


def _flops(n: int) -> str:
    return f"{n / 1e6:.1f} M" if n >= 1e5 else f"{n / 1e3:.1f} k"


def _label(row: dict) -> str:
    return f"{row['variant']} (full)" if row["reference"] else row["variant"]


def times(row: dict) -> tuple[float, float] | None:
    """A row's (train s/epoch, test s): from the quiet timing pass when there is one, else the mean
    wall time of its training runs; None when it has neither."""
    if row.get("timing"):
        return row["timing"].get("train_seconds_per_epoch"), row["timing"].get("test_seconds")
    if row.get("seeds_done"):
        return row.get("train_seconds_per_epoch"), row.get("test_seconds")
    return None


def difference_text(comparison: dict | None) -> str:
    """``versus_full`` as a table cell: "−0.18 (p 0.012)", "+0.04" with one seed, "—" when none."""
    if not comparison:
        return "—"
    text = f"{comparison['delta']:+.2f}".replace("-", "−")
    if comparison.get("p") is not None:
        text += f" (p {comparison['p']:.3f})" if comparison["p"] >= 0.001 else " (p < 0.001)"
    return text


def study_table(rows: list[dict]) -> str:
    """One study as a Markdown table; what is not measured yet shows dashes."""
    lines = ["| Variant | Parameters | FLOPs/image | Train s/epoch | × full | Test s | × full "
             "| Accuracy (%) mean ± std | Δ vs full (points) | Seeds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        t, timed = times(r), r.get("timing")
        cells = [f"{t[0]:.2f}" if t else "—", f"{timed['train_ratio']:.2f}" if timed else "—",
                 f"{t[1]:.2f}" if t else "—", f"{timed['test_ratio']:.2f}" if timed else "—",
                 f"{r['accuracy_mean']:.2f} ± {r['accuracy_std']:.2f}" if r["seeds_done"] else "—",
                 difference_text(r.get("versus_full")), str(r["seeds_done"])]
        lines.append(f"| {_label(r)} | {r['parameters']:,} | {_flops(r['flops'])} | {' | '.join(cells)} |")
    return "\n".join(lines)


def ablation_tables(results: dict) -> str:
    """Every study's table under a heading, as printed by ``python -m ml ablate``."""
    return "\n\n".join(f"## {study}: {STUDY_TITLES[study]}\n\n{study_table(rows)}"
                       for study, rows in results["studies"].items())


def write_report(results: dict, out: Path) -> None:
    """ablation.md and one <study>.png per study, from results as returned by run_ablation."""
    m = results["machine"]
    seeds = results["seeds"]
    md = [
        "# CNN ablation study", "",
        f"Command: `{results['command']}`  ",
        f"Run: {results['created']} on {m['processor']}, {m['cpu_threads']} torch threads, "
        f"{m['platform']}, torch {m['torch']}.  ",
        f"Recipe: {results['epochs']} epochs, batch {results['train_config']['batch_size']}, Adam "
        f"{results['train_config']['lr']:g}, on {results['train_samples']} training images; tested on "
        f"{results['test_samples']} test images; seeds {seeds[0]}–{seeds[-1]}"
        f"{' (dry run)' if results['dry_run'] else ''}{'' if results['complete'] else ' (incomplete)'}.",
        "",
    ]
    for study, rows in results["studies"].items():
        md += [f"## {study}: {STUDY_TITLES[study]}", "", study_table(rows), "",
               f"![{study}]({study}.png)", ""]
        plot_study(study, rows, out / f"{study}.png")
    timing = results.get("timing")
    if timing:
        tm = timing["machine"]
        how = (f"Times come from a separate timing pass on an otherwise idle machine "
               f"({timing['created']}, {tm['cpu_threads']} torch threads): each config trained "
               f"{timing['batches']} batches of {timing['batch_size']} (after one of warm-up) and predicted "
               f"{timing['test_samples']} test images, in {timing['rounds']} rounds of rotated order; "
               f"train s/epoch = median s/batch × {timing['batches_per_epoch']} batches, test s = median "
               "test pass, × full = median of the per-round ratios to the full network. The wall times "
               "of the training runs themselves are in results.json; they were taken while the machine "
               "did other work and are not compared.")
    else:
        how = (f"Train s/epoch = fit wall time / epochs; test s = predicting all {results['test_samples']} "
               "test images; both are means over seeds (no timing pass yet: × full is not shown).")
    md += [
        "(full) marks the full thesis network, the reference row of every study. FLOPs/image = 2 × the "
        "multiply-adds of the convolution and linear layers for one 28×28 image (biases, activations and "
        "pooling not counted). Accuracy: mean ± sample standard deviation (ddof=1) over the seeds done "
        f"(of {len(seeds)}). Δ vs full: the variant's mean accuracy minus the full network's, in "
        "percentage points, with the p of Welch's two-sided t-test once both have two seeds or more "
        "(results.json also holds its 95 % interval); no correction for the study's dozen comparisons. "
        + how,
    ]
    (out / "ablation.md").write_text("\n".join(md) + "\n")


def plot_study(study: str, rows: list[dict], path: Path) -> None:
    """Left: accuracy with std error bars; right: train s/epoch and test s per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["seeds_done"] or r.get("timing")]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    x = list(range(len(rows)))
    labels = [_label(r) for r in rows]
    # The reference row gets its own colour so the eye finds the full network in every study.
    colours = ["tab:red" if r["reference"] else "tab:blue" for r in rows]
    # Points, not bars: the variants differ by tenths of a point near 99 %, which bars from a cut axis
    # would blow up. Each seed is a small dot; the mean ± std a large marker with error bars.
    for i, (row, colour) in enumerate(zip(rows, colours)):
        seeds = [s["accuracy"] for s in row["per_seed"]]
        if not seeds:
            continue
        left.scatter([i + 0.12] * len(seeds), seeds, s=14, color=colour, alpha=0.5, zorder=2)
        left.errorbar([i], [row["accuracy_mean"]], yerr=[row["accuracy_std"]], fmt="o", markersize=8,
                      capsize=5, color=colour, zorder=3)
    trained = [s["accuracy"] for r in rows for s in r["per_seed"]]
    if trained:
        low, high = min(trained), max(trained)
        pad = max(0.1, 0.15 * (high - low))
        left.set_ylim(low - pad, min(100.0, high + pad))
    left.set_xlim(-0.5, len(rows) - 0.5)
    left.set_title("Test accuracy (%): mean ± std, and each seed")
    # One linear axis with the values written on the bars: a test pass is a few seconds beside
    # train epochs of a minute, and the labels keep the short bars readable.
    for offset, which, label, colour in ((-0.2, 0, "train s/epoch", "tab:orange"),
                                         (0.2, 1, "test s", "tab:green")):
        bars = right.bar([i + offset for i in x], [(times(r) or (0.0, 0.0))[which] for r in rows], 0.4,
                         label=label, color=colour)
        right.bar_label(bars, fmt="%.3g", fontsize=8)
    right.set_title("Time (s), quiet timing pass" if any(r.get("timing") for r in rows)
                    else "Time (s), mean wall time of the training runs")
    right.legend(loc="upper left")
    for ax in (left, right):
        ax.set_xticks(x, labels)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{study}: {STUDY_TITLES[study]}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
