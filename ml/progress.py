"""Turn the training progress events of :mod:`ml.train` into tqdm bars on the command line."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


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
