"""What a study run may be asked for, with its defaults: ``python -m ml benchmark`` / ``ablate``, the
site's forms and the study functions all read them from here. No torch.

>>> BenchmarkRequest().families == FAMILIES, AblationRequest().epochs, AblationRequest().seed_list
(True, 10, [0, 1, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

from ml.models.config import FAMILIES

from .ablation.grid import STUDIES


@dataclass(frozen=True)
class BenchmarkRequest:
    """The six-family comparison (``ml.study.benchmark``)."""

    families: tuple[str, ...] = FAMILIES
    epochs: int | None = None  # None: each family's own (the study's configuration)
    # Train on a random subset of this many training images and test on a fifth of it (at least 200).
    limit: int | None = None
    seed: int = 0
    dry_run: bool = False  # tiny data (1,000 images unless limit says), two batches: checks the pipeline
    per_epoch: bool = False  # also record test accuracy after every epoch (torch families)


@dataclass(frozen=True)
class AblationRequest:
    """The CNN ablation study (``ml.study.ablation.run``): which studies, trained how often."""

    studies: tuple[str, ...] = tuple(STUDIES)
    epochs: int = 10  # per training run, the thesis recipe
    seeds: int = 3  # training runs per config, seeds seed0 .. seed0 + seeds - 1
    # Train on a random subset of this size (and test on a fifth of it, at least 200).
    limit: int | None = None
    seed0: int = 0
    dry_run: bool = False  # two batches per run: checks the pipeline

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seed0, self.seed0 + self.seeds))


@dataclass(frozen=True)
class TimingPass:
    """How long the ablation's quiet timing pass measures (``ml.study.ablation.timing``): ``rounds``
    rounds of ``batches`` training batches per config."""

    rounds: int = 3
    batches: int = 6
