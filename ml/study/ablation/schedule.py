"""In which order the study's training runs are started, and which fit before a deadline.

The full study is many CPU-hours, spread over working sessions that end when the machine is taken
away; a run still going then is lost. With a deadline (``--until``) the runs are started longest first,
each only if the timing pass's estimate × ``slowdown`` says it ends in time; the rest is left for the
next call. No torch.

>>> import datetime
>>> now = datetime.datetime(2026, 11, 30, 21, 0).timestamp()
>>> parse_deadline("21:30", now) - now, parse_deadline("+2h", now) - now
(1800.0, 7200.0)
"""

from __future__ import annotations

import argparse
import datetime
import time
from dataclasses import dataclass
from typing import Any

from .plan import Run


class StudyError(ValueError):
    """A study that cannot start as asked (the command line reports it and exits 2)."""


@dataclass(frozen=True)
class Schedule:
    """How the runs are trained: how many at a time, and by when they must end."""

    jobs: int = 1  # runs at a time, in worker processes sharing the torch threads
    until: float | None = None  # a deadline (time.time() seconds); None: train every run
    # How much longer a run takes than the idle timing pass says; None: ``jobs`` (a run given 1/jobs
    # of the threads takes about jobs times as long; measured 1.85–2.2 for two 1-thread runs on 2 cores).
    slowdown: float | None = None

    @property
    def factor(self) -> float:
        return self.slowdown if self.slowdown is not None else float(self.jobs)


def parse_deadline(text: str, now: float | None = None) -> float:
    """``--until``: ``HH:MM`` (local time, next occurrence), ``YYYY-MM-DD HH:MM``, ``+90m`` or ``+2h``.

    >>> import datetime
    >>> now = datetime.datetime(2026, 11, 30, 21, 0).timestamp()
    >>> [parse_deadline(text, now) - now for text in ("21:30", "+2h", "20:00")]
    [1800.0, 7200.0, 82800.0]
    """
    now = time.time() if now is None else now
    text = text.strip()
    try:
        if text.startswith("+") and text[-1:] in ("m", "h") and float(text[1:-1]) > 0:
            return now + float(text[1:-1]) * (60 if text[-1] == "m" else 3600)
        if len(text) <= 5 and ":" in text:
            clock = datetime.datetime.strptime(text, "%H:%M").time()
            moment = datetime.datetime.combine(datetime.date.fromtimestamp(now), clock).timestamp()
            return moment if moment > now else moment + 86400  # noon tomorrow, if noon has passed
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a deadline: give HH:MM, YYYY-MM-DD HH:MM, +90m or +2h")


def estimate_seconds(timing: dict[str, Any] | None, key: str, epochs: int) -> float | None:
    """A training run's wall time on an idle machine, by the timing pass: the epochs and one test pass.

    >>> timing = {"configs": {"full": {"train_seconds_per_epoch": 70.0, "test_seconds": 2.0}}}
    >>> estimate_seconds(timing, "full", 10)
    702.0
    """
    config = (timing or {}).get("configs", {}).get(key)
    if config is None:
        return None
    return config["train_seconds_per_epoch"] * epochs + config["test_seconds"]


class Queue:
    """The runs still to train, handed out one at a time in the order the schedule says.

    >>> runs = [Run("full", 0, "pool", "max", {}), Run("pool=none", 0, "pool", "none", {"pool": "none"})]
    >>> timing = {"configs": {"full": {"train_seconds_per_epoch": 1, "test_seconds": 0},
    ...                       "pool=none": {"train_seconds_per_epoch": 4, "test_seconds": 0}}}
    >>> queue = Queue(runs, timing, epochs=10, schedule=Schedule(until=time.time() + 3600))
    >>> [queue.next().key, queue.next().key, queue.next()]
    ['pool=none', 'full', None]
    """

    def __init__(self, todo: list[Run], timing: dict[str, Any] | None, *, epochs: int,
                 schedule: Schedule, source: str = "results.json") -> None:
        self.schedule = schedule
        self.total = len(todo)
        self.estimates = {run.key: estimate_seconds(timing, run.key, epochs) for run in todo}
        self.pending = list(todo)
        if schedule.until is not None and todo:
            untimed = sorted(key for key, seconds in self.estimates.items() if seconds is None)
            if untimed:
                raise StudyError(f"a deadline needs every run's time from the timing pass, and "
                                 f"{', '.join(untimed)} has none in {source}: run --timing first")
            # Longest first: the long runs start while there is still time for them; short ones fill the end.
            self.pending.sort(key=lambda run: -self.estimates[run.key])

    def fits(self, run: Run) -> bool:
        until = self.schedule.until
        return until is None or time.time() + self.estimates[run.key] * self.schedule.factor <= until

    def next(self) -> Run | None:
        """The first run in order that still fits (without a deadline, simply the next one). A run that
        does not fit now never will, but a shorter one after it may."""
        for i, run in enumerate(self.pending):
            if self.fits(run):
                return self.pending.pop(i)
        return None

    @property
    def left(self) -> int:
        return len(self.pending)
