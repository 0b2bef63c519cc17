"""Training progress: the events ``ml.training`` reports, as tqdm bars on the command line or as calls of
a ``report(progress=..., line=...)`` function (a Celery task's row in the database).

Events are plain dicts: ``{"event": "batch", "epoch", "epochs", "step", "steps", "loss", "accuracy"}``
after every torch training step, ``{"event": "epoch", "epoch", "epochs", "loss", "accuracy"}`` after
every epoch, ``{"event": "start" | "done", "samples"}`` around a scikit-learn fit, and
``{"event": "negatives" | "render", "samples"}`` while the served recipe makes its extra samples.

>>> lines = []
>>> on_event = to_report(lambda progress=None, line="": lines.append((progress, line)), label="cnn")
>>> on_event({"event": "epoch", "epoch": 1, "epochs": 2, "loss": 0.5, "accuracy": 0.9})
>>> lines
[(0.5, 'cnn: epoch 1/2: loss 0.5000, train accuracy 90.00%')]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

Progress = Callable[[dict[str, Any]], None]
Report = Callable[..., None]  # report(progress=0.3, line="cnn: epoch 2/14 ...")


def quiet(_: dict[str, Any]) -> None:
    """The progress callback that ignores every event.

    >>> quiet({"event": "epoch"}) is None
    True
    """


class TqdmProgress:
    """One bar per epoch showing loss and running training accuracy; usable as a progress callback."""

    def __init__(self, label: str = "", *, file=sys.stderr, disable: bool = False) -> None:
        self.label, self.file, self.disable = label, file, disable
        self.bar: tqdm | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "batch":
            if self.bar is None:
                desc = f"{self.label} epoch {event['epoch']}/{event['epochs']}".strip()
                self.bar = tqdm(total=event["steps"], desc=desc, file=self.file, leave=True,
                                disable=self.disable, dynamic_ncols=True)
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{event['loss']:.4f}", acc=f"{event['accuracy']:.4f}", refresh=False)
        elif kind == "epoch":
            self.close()
        elif kind in ("start", "done") and not self.disable:
            what = "fitting" if kind == "start" else "fitted"
            print(f"{self.label} {what} on {event['samples']} samples", file=self.file, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def to_report(report: Report, *, start: float = 0.0, share: float = 1.0, label: str = "",
              every_s: float = 1.0) -> Progress:
    """Training events → ``report`` calls: the bar moves through [start, start + share] (batch by batch,
    at most one call every ``every_s`` seconds: each is a database write), and each epoch and each
    scikit-learn fit writes a log line, prefixed with ``label``.

    >>> calls = []
    >>> on_event = to_report(lambda **kw: calls.append(kw), start=0.5, share=0.5)
    >>> on_event({"event": "batch", "epoch": 1, "epochs": 1, "step": 1, "steps": 2, "loss": 1.0,
    ...           "accuracy": 0.5})
    >>> calls
    [{'progress': 0.75}]
    """
    prefix = f"{label}: " if label else ""
    last = [0.0]

    def on_event(event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "epoch":
            report(progress=start + share * event["epoch"] / event["epochs"],
                   line=f"{prefix}epoch {event['epoch']}/{event['epochs']}: loss {event['loss']:.4f}, "
                        f"train accuracy {event['accuracy']:.2%}")
        elif kind == "batch" and time.monotonic() - last[0] > every_s:
            last[0] = time.monotonic()
            done = (event["epoch"] - 1 + event["step"] / event["steps"]) / event["epochs"]
            report(progress=start + share * done)
        elif kind in ("start", "done"):
            verb = "fitting" if kind == "start" else "fitted"
            report(line=f"{prefix}{verb} on {event['samples']} samples")

    return on_event
