"""Real Celery worker processes for the flow tests, started and stopped like an operator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Variables that pick services or folders: cleared so a child sees only what a test gives it.
SERVICE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "DIGITSCAN_VAR_DIR", "DIGITSCAN_MEDIA_ROOT",
                     "DIGITSCAN_STORAGE", "DIGITSCAN_DEFAULT_CHECKPOINT", "DJANGO_SETTINGS_MODULE")


def child_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.update({k: str(v) for k, v in overrides.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


class WorkerProcess:
    """``celery -A worker worker`` in its own process group, its output in ``log``."""

    def __init__(self, env: dict[str, str], log: Path, *, queues: str = "inference", concurrency: int = 1):
        self.log = log
        cmd = [sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", queues,
               "--concurrency", str(concurrency), "--loglevel", "INFO",
               "-n", f"test-{uuid.uuid4().hex[:8]}@%h",
               "--without-gossip", "--without-mingle", "--without-heartbeat"]
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker says it is ready (its log's "ready." line), or fail with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.output()}")
            if b" ready." in self.log.read_bytes():
                return
            time.sleep(0.2)
        raise AssertionError(f"worker not ready after {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        """Warm shutdown (SIGTERM); the whole process group is killed if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._out.close()


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not met after {timeout} s")


def children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (Linux /proc): a prefork worker's pool processes."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []
