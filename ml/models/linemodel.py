"""The line reader's checkpoint: one self-describing file (format, config, half-precision weights, the
input settings, metrics, how it was trained), loaded into a :class:`LineModel` that reads grey crops.

>>> from ml.paths import LINE_CHECKPOINT
>>> model = load_line_model(LINE_CHECKPOINT)
>>> import numpy as np
>>> [r.text for r in model.read([np.full((40, 120), 230, np.uint8)])]
['']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checkpoint import CheckpointError, load_payload, write_payload
from .linenet import (
    HEIGHT,
    STRIDE,
    LineNet,
    LineNetConfig,
    LineRead,
    batch_inputs,
    best_path,
    config_dict,
    line_input,
)

FORMAT = "digitscan-line/1"
INPUT = {"height": HEIGHT, "stride": STRIDE, "normalise": "median paper, 1st-percentile ink", "version": 1}


class LineCheckpointError(CheckpointError):
    """A line checkpoint that cannot be used: missing, unreadable, another format or other inputs."""


@dataclass
class LineModel:
    """A line network ready to read, and the description stored beside its weights."""

    net: LineNet
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.meta.get("name", "")

    @torch.inference_mode()
    def read(self, crops: list[np.ndarray], *, light_ink: bool = False) -> list[LineRead]:
        """Read each grey crop (one line of digits in each) in one batch; centres in crop pixels."""
        if not crops:
            return []
        inputs = [line_input(c, light_ink=light_ink) for c in crops]
        x, columns = batch_inputs(inputs)
        self.net.eval()
        scales = [c.shape[1] / a.shape[1] for c, a in zip(crops, inputs)]
        return best_path(self.net(x), columns, scales)


def save_line_model(net: LineNet, path: str | Path, *, metrics: dict | None = None,
                    training: dict | None = None) -> Path:
    """Write ``net`` and its description to ``path`` atomically (parent folders are created).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_line_model(LineNet(LineNetConfig(channels=(8, 8, 8), hidden=8, layers=1)),
    ...                            Path(tmp) / "l.pt", metrics={"exact": 0.5})
    ...     loaded = load_line_model(path)
    >>> loaded.meta["metrics"], loaded.net.config.hidden, loaded.name
    ({'exact': 0.5}, 8, 'l')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT, "name": path.stem, "config": config_dict(net.config), "input": INPUT,
        "metrics": metrics or {}, "training": training or {},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "state_dict": {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()},
    }
    return write_payload(payload, path)


def load_line_model(path: str | Path) -> LineModel:
    """The line model stored at ``path``; a clear :class:`LineCheckpointError` for a bad file.

    >>> load_line_model("no-such.pt")
    Traceback (most recent call last):
    ...
    ml.models.linemodel.LineCheckpointError: line checkpoint no-such.pt does not exist
    """
    payload = load_payload(path, FORMAT, error=LineCheckpointError, what="line checkpoint")
    if payload.get("input") != INPUT:
        raise LineCheckpointError(f"line checkpoint {path} was trained on other inputs: "
                                  f"{payload.get('input')}")
    config = payload["config"]
    net = LineNet(LineNetConfig(**{**config, "channels": tuple(config["channels"])}))
    stored = payload["state_dict"]
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in stored.items()})
    net.eval()
    meta = {k: v for k, v in payload.items() if k != "state_dict"}
    return LineModel(net, meta)

