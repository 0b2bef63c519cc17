"""Run DigitScan's processes on one machine and restart any that dies (deploy/start.sh's second half).

    .venv/bin/python deploy/supervise.py --port 8000 --log var/log

Starts two Celery workers (inference, ``--inference-processes`` pool processes; training, one), celery
beat and gunicorn. Workers and beat write to their own files in ``--log``; gunicorn (the site's access
and error lines) writes to this terminal. Every process gets its own process group, so a Ctrl-C at the
terminal reaches only this supervisor, which then stops them all in order.

When a process exits, the supervisor says which, with its exit status, and starts it again after a
back-off: 1 s, doubled after each exit that comes less than ``STEADY_S`` after its start, at most
``MAX_DELAY_S``; a process that ran longer than that starts again after 1 s. Before a restart, whatever
is left of the dead process's group (e.g. a killed Celery worker's pool processes) is killed.

On SIGINT or SIGTERM each process gets SIGTERM (Celery's warm shutdown: running tasks finish; gunicorn's
graceful one) and, if it has not exited after ``--stop-timeout`` seconds or at a second signal, SIGKILL
with its whole group. Each line the supervisor writes starts with a UTC timestamp.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEADY_S = 30.0
MAX_DELAY_S = 60.0


def say(message: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    print(f"{stamp} supervise: {message}", file=sys.stderr, flush=True)


def describe(status: int) -> str:
    """``subprocess`` return codes in words: negative ones are the signal that killed the process."""
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


@dataclass
class Child:
    name: str
    argv: list[str]
    log: Path | None  # None: this terminal
    proc: subprocess.Popen | None = None
    started: float = 0.0
    delay: float = 1.0
    restart_at: float | None = None
    starts: int = 0
    _out: object = field(default=None, repr=False)

    def start(self) -> None:
        if self._out is not None:
            self._out.close()
        self._out = open(self.log, "ab") if self.log else None  # noqa: SIM115 - closed at the next start
        self.started, self.restart_at = time.monotonic(), None
        try:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdout=self._out, start_new_session=True,
                                         stderr=subprocess.STDOUT if self._out else None)
        except OSError as error:  # e.g. the program is missing: try again after the back-off
            say(f"cannot start {self.name}: {error}; trying again in {self.delay:g} s")
            self.restart_at, self.delay = time.monotonic() + self.delay, min(MAX_DELAY_S, self.delay * 2)
            return
        self.starts += 1
        where = f", log {self.log}" if self.log else ""
        say(f"started {self.name} (pid {self.proc.pid}{where})")

    def signal_group(self, sig: int) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def exited(self, status: int) -> None:
        """The process ended: clear its group, say so, and set when it starts again."""
        self.signal_group(signal.SIGKILL)  # orphans, e.g. a killed worker's pool processes
        ran = time.monotonic() - self.started
        if ran >= STEADY_S:
            self.delay = 1.0
        wait, self.delay = self.delay, min(MAX_DELAY_S, self.delay * 2)
        say(f"{self.name} (pid {self.proc.pid}) ended after {ran:.1f} s with {describe(status)}; "
            f"restarting it in {wait:g} s")
        self.restart_at = time.monotonic() + wait


class Supervisor:
    def __init__(self, children: list[Child], *, stop_timeout: float):
        self.children, self.stop_timeout = children, stop_timeout
        self.signals = 0

    def _on_signal(self, signum, _frame) -> None:
        self.signals += 1
        if self.signals > 1:
            say(f"{signal.Signals(signum).name} again: killing everything now")
            for child in self.children:
                child.signal_group(signal.SIGKILL)

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for child in self.children:
            child.start()
        while not self.signals:
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.start()
                elif (status := child.proc.poll()) is not None:
                    child.exited(status)
            time.sleep(0.2)
        return self.stop()

    def stop(self) -> int:
        say("stopping DigitScan...")
        running = [c for c in self.children if c.restart_at is None and c.proc.poll() is None]
        for child in running:
            # The leader only: it stops its own pool (a Celery worker lets running tasks finish, gunicorn
            # its requests); a SIGTERM to the whole group would kill those processes mid-task.
            child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while any(c.proc.poll() is None for c in running) and time.monotonic() < deadline:
            time.sleep(0.2)
        for child in running:
            if child.proc.poll() is None:
                say(f"{child.name} (pid {child.proc.pid}) still running after {self.stop_timeout:g} s: "
                    "killed")
            child.signal_group(signal.SIGKILL)  # and whatever is left in its group
            child.proc.wait()
        say("stopped")
        return 0


def digitscan_children(args: argparse.Namespace) -> list[Child]:
    py, log = sys.executable, Path(args.log)
    celery = [py, "-m", "celery", "-A", "worker"]
    return [
        Child("inference worker", [*celery, "worker", "-Q", "inference", "--concurrency",
                                   str(args.inference_processes), "-n", "inference@%h", "--loglevel", "INFO"],
              log / "worker-inference.log"),
        Child("training worker", [*celery, "worker", "-Q", "training", "--concurrency", "1",
                                  "-n", "training@%h", "--loglevel", "INFO"], log / "worker-training.log"),
        Child("beat", [*celery, "beat", "--loglevel", "INFO", "--pidfile="], log / "beat.log"),
        # Its settings (processes, threads, timeouts, the timestamped access log): deploy/gunicorn.conf.py
        # and its GUNICORN_* variables; the address is start.sh's.
        Child("gunicorn", [py, "-m", "gunicorn", "web.wsgi", "-c", "deploy/gunicorn.conf.py",
                           "--bind", f"{args.host}:{args.port}"], None),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log", default="var/log", help="folder for the workers' and beat's logs")
    parser.add_argument("--inference-processes", type=int,
                        default=int(os.environ.get("INFERENCE_PROCESSES", 2)))
    parser.add_argument("--stop-timeout", type=float, default=60.0,
                        help="seconds a process may take to stop before it is killed")
    args = parser.parse_args(argv)
    Path(args.log).mkdir(parents=True, exist_ok=True)
    return Supervisor(digitscan_children(args), stop_timeout=args.stop_timeout).run()


if __name__ == "__main__":
    sys.exit(main())
