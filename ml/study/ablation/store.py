"""The study's ``results.json``: what earlier calls stored (reused when the recipe matches), and the
results as a whole, rewritten after every finished run so an interrupted study resumes where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ml.machine import machine
from ml.models.config import TrainConfig
from ml.study.requests import AblationRequest

from .grid import FULL, STUDIES, config_key
from .plan import Run, complete
from .stats import compare_to_full, summarise

# What must match for a stored (config, seed) result to be reused instead of retrained.
RECIPE_FIELDS = ("epochs", "limit", "dry_run", "test_samples")


def previous_runs(path: Path, recipe: dict[str, Any]) -> dict[str, Any]:
    """Runs stored by an earlier call with the same recipe; a file from another recipe is set aside.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "results.json"
    ...     recipe = {"epochs": 1, "limit": None, "dry_run": False, "test_samples": 10}
    ...     write_json(path, {**recipe, "runs": {"full": {}}})
    ...     previous_runs(path, recipe)
    {'full': {}}
    """
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    if {k: old.get(k) for k in RECIPE_FIELDS} == recipe:
        return old.get("runs", {})
    # Never silently overwrite hours of training done with other settings: keep it beside the new file.
    path.replace(path.with_name("results.replaced.json"))
    return {}


def stored(path: Path, field: str) -> Any:
    """``field`` of the results stored in ``path`` (the timing pass, the training's command), or None.

    >>> stored(Path("no-such-results.json"), "timing") is None
    True
    """
    if not path.exists():
        return None
    return json.loads(path.read_text()).get(field)


def write_json(path: Path, results: dict) -> None:
    # Write then rename, so an interrupt mid-write never leaves a half file that breaks resuming.
    """Write ``results`` to ``path`` whole or not at all.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_json(Path(tmp) / "results.json", {"runs": {}})
    ...     stored(Path(tmp) / "results.json", "runs")
    {}
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=1))
    os.replace(tmp, path)


def _study_rows(study: str, runs: dict[str, Any], seeds: list[int], timing: dict | None) -> list[dict]:
    """One study's table rows: each variant's size, accuracy over the seeds done, times, Δ vs full."""
    rows = []
    for label, overrides in STUDIES[study]:
        key = config_key(overrides)
        rows.append({"variant": label, "key": key, "reference": key == FULL, "overrides": overrides,
                     **summarise(runs[key], seeds), "timing": (timing or {}).get("configs", {}).get(key)})
    return compare_to_full(rows)


def results_of(request: AblationRequest, plan: list[Run], runs: dict[str, Any], *, recipe: dict[str, Any],
               command: str, train_samples: int, timing: dict | None) -> dict[str, Any]:
    """The whole of results.json: the recipe, every study's rows, every run, the timing pass.

    >>> from ml.study.ablation.execute import describe
    >>> from ml.study.ablation.plan import plan_runs
    >>> request = AblationRequest(studies=("layers",), seeds=1)
    >>> runs = {"full": describe({}), "blocks=1": describe({"blocks": 1})}
    >>> results = results_of(request, plan_runs(request), runs, recipe={"epochs": 10}, command="",
    ...                      train_samples=60000, timing=None)
    >>> [row["variant"] for row in results["studies"]["layers"]], results["complete"]
    (['2 blocks', '1 block'], False)
    """
    return {
        "kind": "ablation", "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": command,
        "machine": machine(), **recipe, "seeds": request.seed_list, "train_samples": train_samples,
        "train_config": vars(TrainConfig(epochs=request.epochs)),
        "complete": complete(plan, runs),
        "studies": {study: _study_rows(study, runs, request.seed_list, timing) for study in request.studies},
        "runs": runs,
        **({"timing": timing} if timing else {}),
    }
