"""The ablation study's tables and figures: ``ablation.md`` with one table per study, one
``<study>.png`` per study. No torch (matplotlib only when plotting): the site's pages use the tables.
"""

from __future__ import annotations

from pathlib import Path

from .grid import STUDY_TITLES


def _flops(n: int) -> str:
    return f"{n / 1e6:.1f} M" if n >= 1e5 else f"{n / 1e3:.1f} k"


def _label(row: dict) -> str:
    return f"{row['variant']} (full)" if row["reference"] else row["variant"]


def times(row: dict) -> tuple[float, float] | None:
    """A row's (train s/epoch, test s): from the quiet timing pass when there is one, else the mean
    wall time of its training runs; None when it has neither.

    >>> times({"timing": {"train_seconds_per_epoch": 70.0, "test_seconds": 2.5}}), times({"seeds_done": 0})
    ((70.0, 2.5), None)
    """
    if row.get("timing"):
        return row["timing"].get("train_seconds_per_epoch"), row["timing"].get("test_seconds")
    if row.get("seeds_done"):
        return row.get("train_seconds_per_epoch"), row.get("test_seconds")
    return None


def difference_text(comparison: dict | None) -> str:
    """``versus_full`` as a table cell: "−0.18 (p 0.012)", "+0.04" with one seed, "—" when none.

    >>> difference_text({"delta": -0.18, "p": 0.012}), difference_text({"delta": 0.04, "p": None})
    ('−0.18 (p 0.012)', '+0.04')
    """
    if not comparison:
        return "—"
    text = f"{comparison['delta']:+.2f}".replace("-", "−")
    if comparison.get("p") is not None:
        text += f" (p {comparison['p']:.3f})" if comparison["p"] >= 0.001 else " (p < 0.001)"
    return text


def _study_table(rows: list[dict]) -> str:
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
    """Every study's table under a heading, as printed by ``python -m ml ablate``.

    >>> row = {"variant": "max", "reference": True, "parameters": 887530, "flops": 2_000_000, "seeds_done": 0}
    >>> print(ablation_tables({"studies": {"pool": [row]}}).splitlines()[0])
    ## pool: Pooling after each conv block
    """
    return "\n\n".join(f"## {study}: {STUDY_TITLES[study]}\n\n{_study_table(rows)}"
                       for study, rows in results["studies"].items())


def write_report(results: dict, out: Path) -> None:
    """ablation.md and one <study>.png per study, from results as returned by run_ablation.

    >>> import tempfile
    >>> from ml.study.ablation.run import run_ablation
    >>> from ml.study.requests import AblationRequest
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     results = run_ablation(AblationRequest(studies=("layers",), epochs=1, seeds=1, limit=300), tmp)
    ...     write_report(results, Path(tmp))
    ...     sorted(p.name for p in Path(tmp).iterdir() if p.suffix != ".json")
    ['ablation.md', 'layers.png']
    """
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
        md += [f"## {study}: {STUDY_TITLES[study]}", "", _study_table(rows), "",
               f"![{study}]({study}.png)", ""]
        _plot_study(study, rows, out / f"{study}.png")
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


def _plot_study(study: str, rows: list[dict], path: Path) -> None:
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
