"""The ablation grid: six studies, each changing one thing of the full thesis CNN (``CNNConfig()``:
channels 32/64, kernels 5/3, max pooling, two conv blocks, a 256-wide linear layer, dropout 0.25).

No torch: the site's forms and pages read the grid.

>>> [label for label, _ in STUDIES["pool"]], config_key({"pool": "max"}), config_key({"pool": "avg"})
(['max', 'avg', 'none'], 'full', 'pool=avg')
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ml.models.config import CNNConfig

Overrides = dict[str, Any]

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


def config_key(overrides: Overrides) -> str:
    """A canonical name for a CNN config: its fields that differ from the full network, sorted.

    Different spellings of one network (``{}``, ``{"pool": "max"}``, ``{"kernel": (5, 3)}``) get
    the same key, ``"full"``, which is what lets it be trained once and shared across studies.

    >>> config_key({}), config_key({"kernel": [5, 3]}), config_key({"channels": (16, 32), "dropout": 0.0})
    ('full', 'full', 'channels=16/32,dropout=0.0')
    """
    config, full = asdict(CNNConfig.from_dict(dict(overrides))), asdict(CNNConfig())

    def text(value: Any) -> str:
        return "/".join(map(str, value)) if isinstance(value, tuple) else str(value)

    return ",".join(f"{k}={text(v)}" for k, v in sorted(config.items()) if v != full[k]) or FULL


def study_configs(studies: list[str] | tuple[str, ...]) -> dict[str, Overrides]:
    """Every distinct config of ``studies`` by key, the full network first when it is among them.

    >>> list(study_configs(["channels", "pool"]))
    ['full', 'channels=16/32', 'channels=64/128', 'pool=avg', 'pool=none']
    """
    configs = {config_key(o): o for study in studies for _, o in STUDIES[study]}
    return {FULL: {}, **configs} if FULL in configs else configs
