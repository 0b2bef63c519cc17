"""Fixtures for real Celery worker processes on the test's own database, queue and media folder."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.worker.processes import WorkerProcess, child_env

__all__ = ["redis_postgres_worker", "start_worker", "worker_env"]


@pytest.fixture
def worker_env(settings, tmp_path, tiny_checkpoint) -> dict[str, str]:
    """The environment of a worker that shares this test's PostgreSQL test database, Redis and files."""
    if connection.vendor != "postgresql":
        # A worker process cannot see an in-memory SQLite test database (DATABASE_URL was overridden).
        pytest.fail("the real-worker tests need the PostgreSQL test database: unset DATABASE_URL or "
                    "point it at PostgreSQL")
    db = connection.settings_dict
    return child_env(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL, DIGITSCAN_MEDIA_ROOT=settings.MEDIA_ROOT,
        DIGITSCAN_VAR_DIR=tmp_path / "var", DIGITSCAN_DEFAULT_CHECKPOINT=tiny_checkpoint,
    )


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """Start real workers (``start_worker(**env)``); each is stopped when the test ends."""
    from web.celery import app

    app.control.purge()  # messages left by an earlier run name uploads that no longer exist
    started: list[WorkerProcess] = []

    def start(*, queues: str = "inference", **overrides: str) -> WorkerProcess:
        worker = WorkerProcess({**worker_env, **{k: str(v) for k, v in overrides.items()}},
                               tmp_path / f"worker-{len(started)}.log", queues=queues)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def redis_postgres_worker(start_worker) -> WorkerProcess:
    return start_worker()
