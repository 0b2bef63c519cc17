"""The faults, played against a :class:`~tests.worker.stack.Stack`, and what became of the uploads.

Each scenario sends uploads through the API, breaks one service, brings it back, waits, and returns an
:class:`Outcome`: how many uploads were lost (never finished), failed, or read more than once (a worker's
"read in" log line per reading), and the recovery time from the service's return to the last upload done.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from dataclasses import dataclass, field

from tests.web.helpers import digits_image, png_bytes
from tests.worker.processes import wait_for
from tests.worker.stack import Stack, wait_finished


def big_page(side: int = 2400) -> bytes:
    """A large page dense with small digits (about 1,200, under ml's budget per reading): it takes seconds
    to read, time for a fault to strike."""
    import cv2
    import numpy as np

    page = np.full((side, side, 3), 255, np.uint8)
    for i, y in enumerate(range(60, side - 20, 70)):
        for j, x in enumerate(range(20, side - 60, 60)):
            cv2.putText(page, str((i + j) % 10), (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
    return cv2.imencode(".png", page)[1].tobytes()


def small_page() -> bytes:
    return png_bytes(digits_image(("1234567890", "4567")))


@dataclass
class Outcome:
    fault: str
    uploads: int
    lost: int
    failed: int
    duplicated: int
    recovery_s: float | None  # from the service's return to the last upload done
    notes: dict = field(default_factory=dict)

    def line(self) -> str:
        recovery = "n/a" if self.recovery_s is None else f"{self.recovery_s:.1f} s"
        return (f"{self.fault}: {self.uploads} uploads, lost {self.lost}, failed {self.failed}, "
                f"duplicated {self.duplicated}, recovery {recovery} {json.dumps(self.notes, default=str)}")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def outcome(stack: Stack, fault: str, ids: list[str], back_at: dt.datetime, *, timeout: float,
            **notes) -> Outcome:
    rows = wait_finished(stack, ids, timeout=timeout)
    done = {i: r for i, r in rows.items() if r[0] == "done"}
    failed = {i: r for i, r in rows.items() if r[0] == "failed"}
    reads = stack.reads()
    finished = [r[3] for r in rows.values() if r[3] is not None]
    recovery = (max(finished) - back_at).total_seconds() if finished and len(done) == len(ids) else None
    if failed:
        notes["failures"] = sorted({f"{r[2]}" for r in failed.values()})
    notes["max_attempts"] = max((r[1] for r in rows.values()), default=0)
    waited = stack.reads(": database unreachable")
    notes["waited_out_database"] = sum(1 for i in ids if i in waited)
    return Outcome(fault, len(ids), len(ids) - len(done) - len(failed), len(failed),
                   sum(1 for i in ids if reads.get(i, 0) > 1), recovery, notes)


def probe_outage(stack: Stack, upload_id: str) -> dict:
    """What the API and a page answer while the database is down."""
    status, headers, body = stack.request(f"/api/v1/recognitions/{upload_id}/")
    page_status, page_headers, page = stack.request("/history/")
    post = {}
    for fresh in (False, True):  # a new client's session is saved on the way out: that fails too
        try:
            post[fresh] = stack.upload(small_page(), fresh=fresh) and 202
        except AssertionError as exc:
            post[fresh] = exc.args[0][0]
    return {"api": status, "api_retry_after": headers.get("Retry-After"), "api_body": body.decode()[:300],
            "page": page_status, "page_retry_after": page_headers.get("Retry-After"),
            "page_says": "Back in a moment" in page.decode(errors="replace"), "post": post[False],
            "post_new_client": post[True]}


def database_outage(stack: Stack, *, down_s: float, backlog: int = 40) -> Outcome:
    """A big page keeps the worker busy while ``backlog`` small uploads queue up; PostgreSQL stops
    for ``down_s`` (the big page's result cannot be recorded, the backlog cannot be claimed)."""
    ids = [stack.upload(big_page())]
    ids += [stack.upload(small_page()) for _ in range(backlog)]
    notes = {"big_page_at_stop": stack.rows(ids[:1])[ids[0]][0]}
    stopped = time.monotonic()
    stack.pg.stop()
    probe = probe_outage(stack, ids[-1])
    time.sleep(max(0.0, down_s - (time.monotonic() - stopped)))
    stack.pg.start()
    back = now()
    return outcome(stack, f"PostgreSQL down {down_s:g} s", ids, back, timeout=down_s + 150,
                   during_outage=probe, **notes)


def broker_outage(stack: Stack, *, down_s: float, during: int = 20, wiped: bool = False) -> Outcome:
    """Redis stops for ``down_s`` while uploads keep coming: the site accepts them (rows, no message).
    ``wiped``: it comes back empty (no persistence), every message it held lost."""
    ids = [stack.upload(big_page())] + [stack.upload(small_page()) for _ in range(5 + 10 * wiped)]
    stopped = time.monotonic()
    stack.redis.stop()
    accepted = []
    while len(accepted) < during and time.monotonic() - stopped < down_s:
        accepted.append(stack.upload(small_page()))
    time.sleep(max(0.0, down_s - (time.monotonic() - stopped)))
    stack.redis.start(wiped=wiped)
    back = now()
    return outcome(stack, f"Redis down {down_s:g} s{', lost its data' * wiped}", ids + accepted, back,
                   timeout=120, accepted_while_down=len(accepted))


def worker_killed(stack: Stack, *, down_s: float = 10) -> Outcome:
    """A whole worker (main process and pool) is SIGKILLed mid-read and started again ``down_s`` later;
    the stack needs two workers, so that the other one is there when the sweeper re-sends."""
    ids = [stack.upload(big_page()) for _ in range(2)]
    ids += [stack.upload(small_page()) for _ in range(10)]
    victim = wait_for(lambda: next((w for i in ids[:2] if (w := _reading(stack, i))), None), timeout=60,
                      interval=0.1, what="a big page being read")
    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=10)
    killed = now()
    stack.workers.remove(victim)
    victim.stop()  # closes its log
    time.sleep(down_s)
    stack.start_worker()
    back = now()
    result = outcome(stack, f"worker SIGKILLed, restarted after {down_s:g} s", ids, back, timeout=120)
    if result.recovery_s is not None:
        result.notes["from_kill_s"] = round(result.recovery_s + (back - killed).total_seconds(), 1)
    return result


def _reading(stack: Stack, upload_id: str):
    rows = stack.rows([upload_id])
    if rows.get(upload_id, ("",))[0] != "running":
        return None
    return stack.worker_reading(upload_id)
