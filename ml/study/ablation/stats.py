"""The study's statistics: each config's mean and spread over seeds, and its difference to the full
network with Welch's t-test. No torch (scipy only for the test): the site's pages call these.
"""

from __future__ import annotations

import math
import statistics
from typing import Any


def summarise(entry: dict[str, Any], seeds: list[int]) -> dict[str, Any]:
    """Mean and sample std (ddof=1; 0 for one seed) of one config over the seeds done so far.

    >>> seeds = {"0": {"accuracy": 99.0, "train_seconds_per_epoch": 1.0, "test_seconds": 0.5},
    ...          "1": {"accuracy": 99.2, "train_seconds_per_epoch": 3.0, "test_seconds": 0.5}}
    >>> entry = {"parameters": 10, "flops": 20, "seeds": seeds}
    >>> row = summarise(entry, [0, 1, 2])
    >>> row["seeds_done"], row["accuracy_mean"], row["accuracy_std"], row["train_seconds_per_epoch"]
    (2, 99.1, 0.1414, 2.0)
    """
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

    >>> versus_full([99.30, 99.35, 99.40], [99.10, 99.12, 99.14])["p"] < 0.05
    True
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

    >>> rows = [{"reference": True, "per_seed": [{"accuracy": 99.0}]}, {"per_seed": [{"accuracy": 99.5}]}]
    >>> [r["versus_full"] for r in compare_to_full(rows)]
    [None, {'delta': 0.5, 'p': None, 'ci95': None}]
    """
    ref = next((r for r in rows if r.get("reference")), None)
    base = [s["accuracy"] for s in (ref or {}).get("per_seed") or []]
    for row in rows:
        mine = [s["accuracy"] for s in row.get("per_seed") or []]
        row["versus_full"] = None if row is ref else versus_full(mine, base)
    return rows
