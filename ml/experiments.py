"""The study behind the product: six classifier families compared on MNIST.

``benchmark`` trains and tests each family on the full MNIST split and writes ``results.json``, a
Markdown table in the layout of the thesis' Table 3.3 with the thesis' figures beside ours, and a bar
chart. Each family is timed on its own: train time is ``fit`` wall time, test time is predicting the
10,000 test images.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .data import Split, load_mnist
from .models import FAMILIES, build, count_parameters
from .train import Progress, evaluate, fit

# Test accuracies (%) of the thesis' Table 3.3. The issue gives these; the thesis' train and test
# times are not available to us, so the table shows ours only.
THESIS_ACCURACY = {"logreg": 92.75, "mlp": 98.53, "knn": 97.35, "svm": 93.32, "rnn": 97.95, "cnn": 99.64}
FAMILY_NAMES = {
    "logreg": "Logistic regression", "mlp": "Multilayer perceptron", "knn": "k-nearest neighbours (k=3)",
    "svm": "Support vector machine", "rnn": "Recurrent network (LSTM)", "cnn": "Convolutional network",
}
# The issue's bar: our accuracy should reach the thesis' minus 0.3 points.
TOLERANCE = 0.3


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(), "python": platform.python_version(),
        "torch": str(torch.__version__),
    }


def run_family(family: str, train: Split, test: Split, *, epochs: int | None = None, seed: int = 0,
               dry_run: bool = False, progress: Progress | None = None,
               per_epoch: bool = False) -> dict[str, Any]:
    """Train and test one family; returns its row of the comparison.

    ``per_epoch`` also records test accuracy after every epoch of a torch family (a diagnosis: is a
    reported figure the last epoch's or the best one's?). Its evaluation time is excluded from the
    train time.
    """
    overrides = {"epochs": epochs} if epochs else {}
    model = build(family, train=overrides, seed=seed)
    curve: list[float] = []
    spent = [0.0]

    def track(epoch: int, current: Any) -> None:
        t = time.perf_counter()
        curve.append(round(100 * evaluate(current, test)["accuracy"], 2))
        spent[0] += time.perf_counter() - t

    start = time.perf_counter()
    fit(model, train, progress=progress or (lambda e: None), seed=seed, dry_run=dry_run,
        epoch_end=track if per_epoch else None)
    train_seconds = time.perf_counter() - start - spent[0]
    metrics = evaluate(model, test)
    row = {
        "family": family, "name": FAMILY_NAMES[family],
        "train_seconds": round(train_seconds, 2), "test_seconds": metrics["seconds"],
        "accuracy": round(100 * metrics["accuracy"], 2),
        "thesis_accuracy": THESIS_ACCURACY[family],
        "per_class_accuracy": metrics["per_class_accuracy"],
        "confusion_matrix": metrics["confusion_matrix"],
        "config": model.model_config,
    }
    if hasattr(model, "train_config"):
        row["train_config"] = vars(model.train_config)
        row["parameters"] = count_parameters(model.module)
    if curve:
        row["test_accuracy_per_epoch"] = curve
    row["meets_bar"] = row["accuracy"] >= THESIS_ACCURACY[family] - TOLERANCE
    return row


def benchmark(families: list[str] | tuple[str, ...] = FAMILIES, *, out: str | Path | None = None,
              epochs: int | None = None, seed: int = 0, dry_run: bool = False, limit: int | None = None,
              progress_factory: Callable[[str], Progress] | None = None, command: str = "",
              per_epoch: bool = False) -> dict:
    """Run the comparison and (with ``out``) write results.json, results.md and benchmark.png."""
    unknown = set(families) - set(FAMILIES)
    assert not unknown, f"unknown families {sorted(unknown)}; choose from {', '.join(FAMILIES)}"
    train, test = load_mnist()
    if dry_run and limit is None:
        limit = 1000
    train, test = train.subset(limit, seed=seed), test.subset(limit and max(limit // 5, 200), seed=seed)
    rows = []
    for family in families:
        progress = progress_factory(family) if progress_factory else None
        rows.append(run_family(family, train, test, epochs=epochs, seed=seed, dry_run=dry_run,
                               progress=progress, per_epoch=per_epoch))
    results = {
        "kind": "benchmark", "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": command,
        "machine": machine(), "seed": seed, "dry_run": dry_run,
        "train_samples": len(train), "test_samples": len(test), "rows": rows,
    }
    if out:
        write_benchmark(results, Path(out))
    return results


def benchmark_table(results: dict) -> str:
    """Markdown in the layout of the thesis' Table 3.3, thesis accuracy beside ours."""
    curves = any("test_accuracy_per_epoch" in r for r in results["rows"])
    lines = [
        "| Method | Train time (s) | Test time (s) | Test accuracy (%) | Thesis accuracy (%) | Δ (points) |"
        + (" Best epoch (%) |" if curves else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|" if curves else ""),
    ]
    for r in results["rows"]:
        delta = r["accuracy"] - r["thesis_accuracy"]
        mark = "" if r["meets_bar"] else " ⚠"
        line = (f"| {r['name']} | {r['train_seconds']:.1f} | {r['test_seconds']:.2f} | "
                f"{r['accuracy']:.2f}{mark} | {r['thesis_accuracy']:.2f} | {delta:+.2f} |")
        if curves:
            curve = r.get("test_accuracy_per_epoch")
            line += f" {max(curve):.2f} (epoch {curve.index(max(curve)) + 1}) |" if curve else " — |"
        lines.append(line)
    return "\n".join(lines)


def write_benchmark(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    m = results["machine"]
    md = [
        "# Six classifier families on MNIST",
        "",
        f"Command: `{results['command']}`  ",
        f"Run: {results['created']} on {m['processor']}, {m['cpu_threads']} torch threads, "
        f"{m['platform']}, torch {m['torch']}.  ",
        f"Data: {results['train_samples']} training and {results['test_samples']} test images, seed "
        f"{results['seed']}{' (dry run)' if results['dry_run'] else ''}.",
        "",
        benchmark_table(results),
        "",
        f"⚠ = below the thesis' accuracy minus {TOLERANCE} points.",
        "",
        "![Accuracy and times per family](benchmark.png)",
    ]
    (out / "results.md").write_text("\n".join(md) + "\n")
    plot_benchmark(results, out / "benchmark.png")


def plot_benchmark(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["rows"]
    names = [r["family"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    x = range(len(rows))
    axes[0].bar([i - 0.2 for i in x], [r["accuracy"] for r in rows], 0.4, label="ours")
    axes[0].bar([i + 0.2 for i in x], [r["thesis_accuracy"] for r in rows], 0.4, label="thesis")
    low = min(min(r["accuracy"] for r in rows), min(r["thesis_accuracy"] for r in rows))
    axes[0].set_ylim(max(0, low - 2), 100)
    axes[0].set_title("Test accuracy (%)")
    axes[0].legend(loc="lower right")
    axes[1].bar(x, [r["train_seconds"] for r in rows], color="tab:orange")
    axes[1].set_title("Train time (s)")
    axes[2].bar(x, [r["test_seconds"] for r in rows], color="tab:green")
    axes[2].set_title("Test time, 10k images (s)")
    for ax in axes:
        ax.set_xticks(list(x), names)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[1:]:
        ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
