"""Which training runs the study needs: every distinct (config, seed) of the studies asked for once, and
of those, the ones the stored results do not hold yet. No torch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ml.study.requests import AblationRequest

from .grid import STUDIES, Overrides, config_key


class Run(NamedTuple):
    """One training run: config ``key`` with ``seed``, first met as ``study``'s variant ``label``."""

    key: str
    seed: int
    study: str
    label: str
    overrides: Overrides

    @property
    def name(self) -> str:
        return f"{self.study} {self.label} seed {self.seed}"


def plan_runs(request: AblationRequest) -> list[Run]:
    """Every distinct (config, seed) of ``request`` once, where it first appears. Seed by seed: a study
    stopped part way (it takes many CPU-hours) still covers every study with the seeds done, rather
    than some studies completely and others not at all.

    >>> from ml.study.requests import AblationRequest
    >>> plan = plan_runs(AblationRequest(studies=("pool", "channels"), seeds=1))
    >>> [(run.key, run.study, run.label) for run in plan][:3], len(plan)
    ([('full', 'pool', 'max'), ('pool=avg', 'pool', 'avg'), ('pool=none', 'pool', 'none')], 5)
    """
    seen: dict[tuple[str, int], Run] = {}
    for seed in request.seed_list:
        for study in request.studies:
            for label, overrides in STUDIES[study]:
                key = config_key(overrides)
                seen.setdefault((key, seed), Run(key, seed, study, label, overrides))
    return list(seen.values())


def runs_to_do(plan: list[Run], runs: dict[str, Any]) -> list[Run]:
    """The runs of ``plan`` whose seed ``runs`` (results.json's, by config key) does not hold yet.

    >>> runs_to_do([Run("full", 0, "pool", "max", {}), Run("full", 1, "pool", "max", {})],
    ...            {"full": {"seeds": {"0": {"accuracy": 99.3}}}})
    [Run(key='full', seed=1, study='pool', label='max', overrides={})]
    """
    return [run for run in plan if str(run.seed) not in runs.get(run.key, {}).get("seeds", {})]


def complete(plan: list[Run], runs: dict[str, Any]) -> bool:
    """Whether every run of ``plan`` is stored in ``runs``.

    >>> complete([Run("full", 0, "pool", "max", {})], {"full": {"seeds": {"0": {}}}})
    True
    """
    return not runs_to_do(plan, runs)
