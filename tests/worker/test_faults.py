"""Faults a deployment outlives, played against real services of the test's own: PostgreSQL stopped,
Redis stopped, a whole worker SIGKILLed. Every upload ends done, none failed, none read twice.

The machine's shared PostgreSQL and Redis are never touched: tests/worker/stack.py starts private ones
(on free ports, in temporary folders) with gunicorn, an inference worker and beat, all with the default
delivery settings. Each test prints its figures (``-s`` shows them); ``python -m
tests.worker.measure_faults`` prints them for longer outages too.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.worker.faults import broker_outage, database_outage, worker_killed
from tests.worker.stack import BIN, Stack


@pytest.fixture(autouse=True, scope="module")
def private_service_binaries():
    """Never skipped: without the binaries the fault tests fail and say what they need."""
    missing = [name for name, found in (("initdb/pg_ctl", (BIN / "initdb").exists()),
                                        ("redis-server", shutil.which("redis-server"))) if not found]
    assert not missing, (f"the fault tests start private services and need {', '.join(missing)} "
                         f"(PostgreSQL's binaries in {BIN}, Debian's redis-server)")


@pytest.fixture(scope="module")
def stack(request):
    root = Path(tempfile.mkdtemp(prefix="digitscan-faults-"))
    failed_before = request.session.testsfailed
    running = Stack(root)
    yield running
    running.close()
    if request.session.testsfailed == failed_before:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"the logs of the failed fault tests are in {root}")


def logs(stack: Stack) -> str:
    return "\n".join(f"--- {name}\n{stack.tail(name)}" for name in
                     ["web.log", "beat.log", *(p.name for p in stack.logs[-2:])])


def test_a_database_outage_loses_no_upload_and_the_site_answers_503_meanwhile(stack):
    result = database_outage(stack, down_s=10)
    print(result.line())
    assert (result.lost, result.failed, result.duplicated) == (0, 0, 0), (result.line(), logs(stack))
    # Waiting out the database counted no attempt: each upload was claimed once.
    assert result.notes["max_attempts"] == 1, result.line()
    probe = result.notes["during_outage"]
    assert probe["api"] == 503 and probe["api_retry_after"], probe
    assert json.loads(probe["api_body"])["error"]["code"] == "unavailable", probe
    assert probe["page"] == 503 and probe["page_retry_after"] and probe["page_says"], probe
    # An upload sent meanwhile is refused, to be sent again: not lost. A new client's too, whose session
    # fails to be saved in SessionMiddleware, after the view.
    assert probe["post"] == probe["post_new_client"] == 503, probe
    assert result.recovery_s is not None and result.recovery_s < 60, result.line()


def test_uploads_accepted_while_the_broker_is_down_are_read_soon_after_it_returns(stack):
    result = broker_outage(stack, down_s=10)
    print(result.line())
    assert result.notes["accepted_while_down"] >= 3, result.line()
    assert (result.lost, result.failed, result.duplicated) == (0, 0, 0), (result.line(), logs(stack))
    assert result.recovery_s is not None and result.recovery_s < 45, (result.line(), logs(stack))


def test_the_uploads_of_a_whole_worker_killed_mid_read_are_read_by_the_others(stack):
    stack.start_worker()  # two workers: one to kill, one left
    result = worker_killed(stack, down_s=10)
    print(result.line())
    assert (result.lost, result.failed, result.duplicated) == (0, 0, 0), (result.line(), logs(stack))
    assert result.recovery_s is not None and result.recovery_s < 75, (result.line(), logs(stack))
