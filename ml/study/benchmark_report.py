"""The six-family comparison as results.json, results.md (the layout of the thesis' Table 3.3, the
thesis' accuracy beside ours) and benchmark.png. No torch (matplotlib only when plotting).
"""

from __future__ import annotations

import json
from pathlib import Path

from .thesis import TOLERANCE, thesis_times_note


def benchmark_table(results: dict) -> str:
    """Markdown in the layout of the thesis' Table 3.3, thesis accuracy beside ours; the train time per
    epoch too for the families trained by epochs (the unit the thesis gives its times in).

    >>> row = {"name": "Convolutional network", "train_seconds": 700.0, "test_seconds": 2.5, "accuracy": 99.4,
    ...        "thesis_accuracy": 99.64, "meets_bar": True, "train_config": {"epochs": 10}}
    >>> print(benchmark_table({"rows": [row]}).splitlines()[-1])
    | Convolutional network | 700.0 | 70.0 | 2.50 | 99.40 | 99.64 | -0.24 |
    """
    curves = any("test_accuracy_per_epoch" in r for r in results["rows"])
    lines = [
        "| Method | Train time (s) | per epoch (s) | Test time (s) | Test accuracy (%) | Thesis accuracy (%) "
        "| Δ (points) |" + (" Best epoch (%) |" if curves else ""),
        "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if curves else ""),
    ]
    for r in results["rows"]:
        delta = r["accuracy"] - r["thesis_accuracy"]
        mark = "" if r["meets_bar"] else " ⚠"
        epoch = seconds_per_epoch(r)
        line = (f"| {r['name']} | {r['train_seconds']:.1f} | {'—' if epoch is None else f'{epoch:.1f}'} | "
                f"{r['test_seconds']:.2f} | {r['accuracy']:.2f}{mark} | {r['thesis_accuracy']:.2f} | "
                f"{delta:+.2f} |")
        if curves:
            curve = r.get("test_accuracy_per_epoch")
            line += f" {max(curve):.2f} (epoch {curve.index(max(curve)) + 1}) |" if curve else " — |"
        lines.append(line)
    return "\n".join(lines)


def seconds_per_epoch(row: dict) -> float | None:
    """A row's train time per epoch, for families trained by epochs (None for kNN and the SVM).

    >>> seconds_per_epoch({"train_seconds": 30.0, "train_config": {"epochs": 10}}), seconds_per_epoch({})
    (3.0, None)
    """
    epochs = (row.get("train_config") or {}).get("epochs")
    seconds = row.get("train_seconds")
    return round(seconds / epochs, 2) if epochs and seconds is not None else None


def write_benchmark(results: dict, out: Path) -> None:
    """results.json, results.md and benchmark.png of ``results`` in ``out``.

    >>> import tempfile
    >>> results = {"command": "", "created": "now", "seed": 0, "dry_run": True, "train_samples": 1,
    ...            "test_samples": 1,
    ...            "machine": {"processor": "x86_64", "cpu_threads": 2, "platform": "Linux", "torch": "2"},
    ...            "rows": [{"family": "cnn", "name": "CNN", "train_seconds": 1.0, "test_seconds": 0.1,
    ...                      "accuracy": 99.0, "thesis_accuracy": 99.64, "meets_bar": False}]}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_benchmark(results, Path(tmp))
    ...     sorted(p.name for p in Path(tmp).iterdir())
    ['benchmark.png', 'results.json', 'results.md']
    """
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
        f"⚠ = below the thesis' accuracy minus {TOLERANCE} points. {thesis_times_note()}",
        "",
        "![Accuracy and times per family](benchmark.png)",
    ]
    (out / "results.md").write_text("\n".join(md) + "\n")
    _plot_benchmark(results, out / "benchmark.png")


def _plot_benchmark(results: dict, path: Path) -> None:
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
