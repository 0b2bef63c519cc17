"""Soak the embedded default (not a test): deploy/start.sh for a long while under steady uploads.

Starts ``deploy/start.sh`` (no servers: SQLite, the SQLite-file queue, local files) in a fresh temporary
``DIGITSCAN_VAR_DIR`` on a free port, then ``--clients`` clients each send an upload over the JSON API
(``POST /api/v1/recognitions/``, a small generated PNG of 3 to 6 digits), poll it until it ends, and send
the next, until ``--uploads`` were sent or ``--minutes`` have passed. Progress every ``--every`` seconds;
at the end: uploads sent, done, failed (by error code), lost (accepted, not finished ``--grace`` seconds
after it was sent), read more than once (``attempts`` above 1, and the worker log's deliveries against
the uploads), throughput and the send → done latency (p50, p95), and every process restart the
supervisor reported. It exits 1 if anything was lost or failed, or read twice without ``--kill-every``.
``--kill-every S`` SIGKILLs the inference worker, gunicorn, the training worker and beat in turn, one every
S seconds; an upload whose reading process is killed is read again, so ``attempts`` 2 is then expected.

    .venv/bin/python deploy/soak.py                                   # 60 min or 5,000 uploads
    .venv/bin/python deploy/soak.py --minutes 8 --uploads 600 --clients 4 --out /tmp/soak.json
    .venv/bin/python deploy/soak.py --minutes 7 --uploads 6000 --kill-every 45

The stack is started with ``DIGITSCAN_UPLOAD_RATE`` and ``DIGITSCAN_API_RATE`` set very high: every client
comes from 127.0.0.1, and the API's per-client throttles would otherwise answer 429.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
# Cleared so that the stack gets the embedded defaults whatever this shell points at.
SERVICE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "DIGITSCAN_STORAGE", "DIGITSCAN_MEDIA_ROOT",
                     "DIGITSCAN_CACHE_URL", "DJANGO_SETTINGS_MODULE")
HIGH_RATE = "1000000/minute"


def digits_png(rng: random.Random) -> tuple[str, bytes]:
    """A white image with 3 to 6 digits drawn in black (about 1–3 KB as PNG) and the digits drawn."""
    text = "".join(rng.choice("0123456789") for _ in range(rng.randint(3, 6)))
    image = np.full((80, 40 + 42 * len(text)), 255, np.uint8)
    cv2.putText(image, text, (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.8, 0, 4, cv2.LINE_AA)
    return text, cv2.imencode(".png", image)[1].tobytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """deploy/start.sh in its own process group, its terminal output in ``var/start.log``."""

    def __init__(self, var: Path, port: int, inference_processes: int):
        self.var, self.port = var, port
        env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
        env.update(DIGITSCAN_VAR_DIR=str(var), DIGITSCAN_SKIP_SETUP="1", PYTHONUNBUFFERED="1",
                   INFERENCE_PROCESSES=str(inference_processes),
                   DIGITSCAN_UPLOAD_RATE=HIGH_RATE, DIGITSCAN_API_RATE=HIGH_RATE)
        var.mkdir(parents=True, exist_ok=True)
        self.log = var / "start.log"
        self._out = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([str(ROOT / "deploy" / "start.sh"), str(port)], cwd=ROOT, env=env,
                                     stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 300) -> None:
        """Until the site answers and the inference worker says it is ready."""
        deadline = time.monotonic() + timeout
        worker_log = self.var / "log" / "worker-inference.log"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"start.sh exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                site = requests.get(f"http://127.0.0.1:{self.port}/", timeout=5).status_code == 200
            except requests.RequestException:
                site = False
            if site and worker_log.exists() and b" ready." in worker_log.read_bytes():
                return
            time.sleep(1)
        raise SystemExit(f"the stack was not ready after {timeout} s:\n{self.log.read_text()[-4000:]}")

    def kill(self, name: str) -> int | None:
        """SIGKILL the process the supervisor last started as ``name`` (its pid from start.sh's output)."""
        found = re.findall(rf"supervise: started {name} \(pid (\d+)", self.log.read_text(errors="replace"))
        if not found:
            return None
        try:
            os.kill(int(found[-1]), signal.SIGKILL)
        except ProcessLookupError:
            return None
        return int(found[-1])

    def restarts(self) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if "restarting it in" in line]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._out.close()


class Soak:
    """The clients and what they saw: one record per accepted upload."""

    def __init__(self, base: str, *, uploads: int, seconds: float, poll: float, grace: float):
        self.base, self.uploads, self.poll, self.grace = base, uploads, poll, grace
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.sent = 0
        self.records: dict[str, dict] = {}
        self.refused: Counter = Counter()

    def _claim(self) -> bool:
        with self.lock:
            if self.sent >= self.uploads or time.monotonic() >= self.deadline:
                return False
            self.sent += 1
            return True

    def client(self, seed: int) -> None:
        session, rng = requests.Session(), random.Random(seed)
        while self._claim():
            text, png = digits_png(rng)
            sent = time.monotonic()
            try:
                answer = session.post(f"{self.base}/api/v1/recognitions/", files={"image": ("d.png", png)},
                                      timeout=60)
            except requests.RequestException as error:
                self.refused[f"post {type(error).__name__}"] += 1
                continue
            if answer.status_code != 202:
                self.refused[f"post {answer.status_code}"] += 1
                time.sleep(float(answer.headers.get("Retry-After", 0) or 0))
                continue
            record = {"id": answer.json()["id"], "url": answer.json()["url"], "text": text, "sent": sent,
                      "status": "queued", "session": session}
            with self.lock:
                self.records[record["id"]] = record
            self.follow(record)

    def follow(self, record: dict) -> None:
        """Poll one upload until it ends or ``grace`` seconds after it was sent."""
        while time.monotonic() - record["sent"] < self.grace:
            try:
                data = record["session"].get(record["url"], timeout=30).json()
            except (requests.RequestException, ValueError):
                time.sleep(self.poll)
                continue
            if data["status"] in ("done", "failed"):
                record.update(status=data["status"], latency=time.monotonic() - record["sent"],
                              attempts=data["attempts"], read=data.get("text"),
                              error=(data.get("error") or {}).get("code"))
                return
            time.sleep(self.poll)

    def counts(self) -> dict:
        with self.lock:
            statuses = Counter(r["status"] for r in self.records.values())
        return {"sent": self.sent, "accepted": len(self.records), "done": statuses["done"],
                "failed": statuses["failed"], "pending": statuses["queued"]}


def progress(soak: Soak, started: float, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        c = soak.counts()
        minutes = (time.monotonic() - started) / 60
        print(f"{time.strftime('%H:%M:%S')} {minutes:5.1f} min: sent {c['sent']}, done {c['done']}, "
              f"failed {c['failed']}, in flight {c['pending']}, refused {sum(soak.refused.values())}, "
              f"{c['done'] / max(minutes, 1e-9):.1f} done/min", flush=True)


def killer(stack: Stack, every: float, stop: threading.Event) -> None:
    """Every ``every`` seconds SIGKILL the next process in turn: the faults a long run meets."""
    names = ("inference worker", "gunicorn", "training worker", "beat")
    turn = 0
    while not stop.wait(every):
        name = names[turn % len(names)]
        turn += 1
        print(f"{time.strftime('%H:%M:%S')} fault: SIGKILL {name} (pid {stack.kill(name)})", flush=True)


def deliveries(var: Path) -> int:
    """How many recognize messages the inference worker received, by its log."""
    text = (var / "log" / "worker-inference.log").read_text(errors="replace")
    return len(re.findall(r"Task worker\.tasks\.recognize\[[0-9a-f-]+\] received", text))


def summary(soak: Soak, stack: Stack, elapsed: float) -> dict:
    records = list(soak.records.values())
    done = [r for r in records if r["status"] == "done"]
    latencies = sorted(r["latency"] for r in done)
    q = (lambda f: round(latencies[min(len(latencies) - 1, int(len(latencies) * f))], 3)) if latencies \
        else (lambda f: None)
    return {
        **soak.counts(), "refused": dict(soak.refused),
        "lost": sum(r["status"] == "queued" for r in records),
        "failed_by_code": dict(Counter(r["error"] for r in records if r["status"] == "failed")),
        "read_more_than_once": sum(r.get("attempts", 0) > 1 for r in records),
        "worker_deliveries": deliveries(stack.var),
        "read_as_drawn": sum(r.get("read") == r["text"] for r in done),
        "elapsed_s": round(elapsed, 1),
        "throughput_per_s": round(len(done) / elapsed, 3) if elapsed else None,
        "latency_s": {"p50": q(0.5), "p95": q(0.95), "max": round(latencies[-1], 3) if latencies else None,
                      "mean": round(statistics.mean(latencies), 3) if latencies else None},
        "restarts": stack.restarts(),
        "broker_file_bytes": sum(p.stat().st_size for p in stack.var.glob("broker.sqlite3*")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--uploads", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--inference-processes", type=int, default=2)
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between polls of one upload")
    parser.add_argument("--grace", type=float, default=120,
                        help="seconds an upload may take before it counts as lost")
    parser.add_argument("--every", type=float, default=30, help="seconds between progress lines")
    parser.add_argument("--kill-every", type=float, default=0,
                        help="SIGKILL a worker, gunicorn or beat in turn this often, in seconds (0: never)")
    parser.add_argument("--var", type=Path, help="keep the stack's files here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, help="also write the summary to this JSON file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digitscan-soak-") as tmp:
        var = args.var or Path(tmp) / "var"
        stack = Stack(var, free_port(), args.inference_processes)
        try:
            stack.wait_ready()
            print(f"stack ready on port {stack.port} (files in {var}); soaking", flush=True)
            figures = soak_once(stack, args)
        finally:
            stack.stop()
        figures["restarts"] = stack.restarts()
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    # A POST cut off by a killed gunicorn is the fault itself; an answer other than 202 is not.
    answered = {k: v for k, v in figures["refused"].items() if re.fullmatch(r"post \d+", k)}
    # With faults, an upload whose reading process was killed is read again: attempts 2 is then expected.
    twice = figures["read_more_than_once"] and not args.kill_every
    bad = figures["lost"] or figures["failed"] or twice or answered
    return 1 if bad else 0


def soak_once(stack: Stack, args: argparse.Namespace) -> dict:
    soak = Soak(f"http://127.0.0.1:{stack.port}", uploads=args.uploads, seconds=args.minutes * 60,
                poll=args.poll, grace=args.grace)
    started, stop = time.monotonic(), threading.Event()
    ticker = threading.Thread(target=progress, args=(soak, started, args.every, stop), daemon=True)
    ticker.start()
    if args.kill_every:
        threading.Thread(target=killer, args=(stack, args.kill_every, stop), daemon=True).start()
    clients = [threading.Thread(target=soak.client, args=(seed,)) for seed in range(args.clients)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    stop.set()
    return summary(soak, stack, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
