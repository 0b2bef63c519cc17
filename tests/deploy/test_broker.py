"""The embedded Celery queue (web/broker.py): a SQLite file that several processes write and read at once.

Kombu's filesystem transport, the queue before, corrupted its shared files under concurrent writers
(celery/kombu#1551). These run deploy/stress_broker.py — real producer and consumer processes on one
fresh broker file — and check that every message arrives exactly once.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from kombu import Connection

from tests.worker.processes import ROOT, child_env


def stress(*args: str) -> dict:
    run = subprocess.run([sys.executable, "deploy/stress_broker.py", *args], cwd=ROOT, env=child_env(),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def test_concurrent_producers_and_consumers_lose_and_duplicate_nothing():
    figures = stress("--producers", "4", "--consumers", "3", "--messages", "150")
    assert figures["sent"] == figures["received"] == 600, figures
    assert figures["lost"] == figures["duplicated"] == figures["unexpected"] == 0, figures
    assert sum(figures["per_consumer"]) == 600 and len(figures["per_consumer"]) == 3


def test_a_consumed_message_leaves_no_row_and_an_unacknowledged_one_goes_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'broker.sqlite3'}"
    rows = lambda: sqlite3.connect(tmp_path / "broker.sqlite3").execute(  # noqa: E731
        "SELECT count(*) FROM kombu_message").fetchone()[0]
    with Connection(url, transport="web.broker:Transport") as conn:
        queue = conn.SimpleQueue("q")
        queue.put({"n": 1})
        queue.put({"n": 2})
        assert rows() == 2
        first = queue.get(timeout=5)
        assert first.payload == {"n": 1} and rows() == 1  # claimed: its row is gone
        first.ack()
        queue.get(timeout=5)  # taken, never acknowledged: kombu puts it back when the channel closes
        queue.close()
    assert rows() == 1
    with Connection(url, transport="web.broker:Transport") as conn:
        queue = conn.SimpleQueue("q")
        again = queue.get(timeout=5)
        assert again.payload == {"n": 2}
        again.ack()
        queue.close()
    assert rows() == 0
