"""``run_ablation``: the whole study, or the part of it still to do, from a request to results.json,
ablation.md and one ``<study>.png`` per study.

Every variant is trained with the thesis recipe (10 epochs, batch 512, Adam 1e-3) once per seed and
tested on MNIST's 10,000 test images; a config shared by several studies (the full network) is trained
once per seed. Runs already in ``out/results.json`` for the same recipe are reused, so an interrupted
study picks up where it stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml.progress import Progress, quiet
from ml.study.requests import AblationRequest, TimingPass

from .execute import ProgressFactory, describe, run_parallel, run_serial, study_splits
from .grid import STUDIES, study_configs
from .plan import Run, plan_runs, runs_to_do
from .report import write_report
from .schedule import Queue, Schedule
from .store import previous_runs, results_of, stored, write_json
from .timing import time_configs

MODES = ("train", "timing", "report")


def run_ablation(request: AblationRequest, out: str | Path, *, mode: str = "train",
                 schedule: Schedule = Schedule(), timing: TimingPass = TimingPass(),
                 progress_factory: ProgressFactory | None = None, on_event: Progress = quiet,
                 command: str = "") -> dict[str, Any]:
    """Run the study ``request`` asks for into ``out``; the results as written to results.json.

    ``mode="timing"`` trains nothing and times every config in a quiet timing pass (the tables' times
    come from it); ``"report"`` rewrites the tables and figures from the runs stored. ``schedule``: how
    many runs train at a time, and by when (:mod:`ml.study.ablation.schedule`). ``on_event`` receives
    ``start``, ``timed``, ``run`` (one per finished training run) and ``done`` events.

    >>> import tempfile
    >>> from ml.study.requests import AblationRequest
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     results = run_ablation(AblationRequest(studies=("pool",), epochs=1, seeds=1, limit=400), tmp)
    >>> [row["variant"] for row in results["studies"]["pool"]], results["complete"]
    (['max', 'avg', 'none'], True)
    """
    _check(request, mode)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    train_all, test = study_splits(request.limit, request.seed0)
    recipe = {"epochs": request.epochs, "limit": request.limit, "dry_run": request.dry_run,
              "test_samples": len(test)}
    stored_timing = stored(path, "timing")  # before previous_runs, which may set the file aside
    if mode != "train":
        # A report or a timing pass trains nothing: the runs, and the command, stay the training's.
        command = stored(path, "command") or command
    plan = plan_runs(request)
    runs = _stored_runs(path, plan, recipe)
    todo = runs_to_do(plan, runs)
    if mode == "timing":
        subset = train_all.subset(request.limit, seed=request.seed0) if request.limit else train_all
        stored_timing = time_configs(study_configs(request.studies), subset, test, timing=timing,
                                     on_event=on_event)
    queue = Queue(todo if mode == "train" else [], stored_timing, epochs=request.epochs, schedule=schedule,
                  source=str(path))
    on_event({"event": "start", "total": queue.total, "reused": len(plan) - queue.total, "runs": len(plan)})
    train_samples = min(request.limit, len(train_all)) if request.limit else len(train_all)

    def results() -> dict[str, Any]:
        return results_of(request, plan, runs, recipe=recipe, command=command, train_samples=train_samples,
                          timing=stored_timing)

    def record(done: int, run: Run, row: dict[str, float]) -> None:
        runs[run.key]["seeds"][str(run.seed)] = row
        write_json(path, results())
        on_event({"event": "run", "done": done, "total": queue.total, "study": run.study,
                  "variant": run.label, "key": run.key, "seed": run.seed, **row})

    if schedule.jobs > 1 and queue.total > 1:
        run_parallel(queue, request, schedule.jobs, progress_factory=progress_factory, record=record)
    else:
        run_serial(queue, request, train_all, test, progress_factory=progress_factory, record=record)
    final = results()
    write_json(path, final)
    write_report(final, out)
    on_event({"event": "done", "total": queue.total, "left": queue.left, "complete": final["complete"]})
    return final


def _stored_runs(path: Path, plan: list[Run], recipe: dict[str, Any]) -> dict[str, Any]:
    """The runs stored for this recipe, with every config of ``plan`` described (size, FLOPs)."""
    runs = previous_runs(path, recipe)
    for run in plan:
        if run.key not in runs:
            runs[run.key] = describe(run.overrides)
    return runs


def _check(request: AblationRequest, mode: str) -> None:
    unknown = [s for s in request.studies if s not in STUDIES]
    if unknown or not request.studies:
        raise ValueError(f"unknown studies {unknown}; choose from {', '.join(STUDIES)}")
    if request.epochs < 1 or request.seeds < 1:
        raise ValueError(f"epochs and seeds must be at least 1, got epochs={request.epochs}, "
                         f"seeds={request.seeds}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
