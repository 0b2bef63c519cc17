"""Benchmark the web system (not a test): upload → result latency and sustained throughput.

Runs the real set on this machine — gunicorn, one Celery worker with N inference processes, Redis and
PostgreSQL — in a fresh database (``digitscan_bench``) and Redis database 10, and writes
``results.json`` and ``results.md`` to ``--out``:

1. latency at low load: one upload at a time; server-side (queued → finished, from the rows) and as a
   client sees it (POST sent → "done" seen, polling every 5 ms);
2. sustained throughput: ``--clients`` clients uploading as fast as they can for ``--seconds``;
3. overload: uploads offered at ``--overload`` × the sustained rate, then every one is checked to finish
   exactly once (none lost, none failed).

    .venv/bin/python deploy/benchmark_web.py --out docs/results/web    # on a quiet machine
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
DB = "digitscan_bench"


def sample_png() -> bytes:
    """A typical small upload: two lines of real MNIST digits (about 10 KB as PNG)."""
    from ml.data import load_mnist
    from ml.synth.compose import page_from_text

    _, test = load_mnist()
    page, _ = page_from_text(test.images.numpy(), test.labels.numpy(), ["4071", "392"], seed=3,
                             digit_height=40)
    return cv2.imencode(".png", page)[1].tobytes()


def fresh_database(url: str) -> None:
    with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


class Stack:
    """gunicorn and a Celery worker on the benchmark database; stopped (by their own ids) on exit."""

    def __init__(self, env: dict[str, str], *, port: int, processes: int, web_workers: int, logs: Path):
        self.env, self.url, self.procs = env, f"http://127.0.0.1:{port}", []
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        self.start(logs / "web.log", [PY, "-m", "gunicorn", "web.wsgi", "--bind", f"127.0.0.1:{port}",
                                      "--workers", str(web_workers), "--threads", "4"])
        self.start(logs / "worker.log", [PY, "-m", "celery", "-A", "worker", "worker", "-Q", "inference",
                                         "--concurrency", str(processes), "--loglevel", "WARNING"])

    def start(self, log: Path, cmd: list[str]) -> None:
        self.procs.append(subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=open(log, "wb"),  # noqa: SIM115
                                           stderr=subprocess.STDOUT, start_new_session=True))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=60)


class Client:
    def __init__(self, url: str, png: bytes):
        self.url, self.png, self.local = url, png, threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()  # one cookie jar per thread: one anonymous owner
        return self.local.session

    def upload(self) -> str:
        response = self.session.post(f"{self.url}/api/v1/recognitions/", files={"image": ("d.png", self.png)})
        response.raise_for_status()
        return response.json()["url"]

    def wait(self, status_url: str, *, poll: float = 0.005, backoff: float = 1.0, max_poll: float = 2.0,
             timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.session.get(status_url).json()
            if data["status"] in ("done", "failed"):
                return data
            time.sleep(poll)
            poll = min(poll * backoff, max_poll)
        raise TimeoutError(status_url)


def server_latencies_ms(ids: list[str]) -> list[float]:
    """queued → finished per upload, from the rows the worker wrote."""
    from web.uploads.models import Upload

    rows = Upload.objects.filter(id__in=ids).values_list("queued_at", "finished_at")
    return [(f - q).total_seconds() * 1e3 for q, f in rows if f]


def percentiles(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(q[49], 1), "p95": round(q[94], 1), "max": round(max(values), 1), "n": len(values)}


def latency(client: Client, n: int) -> dict:
    seen, ids = [], []
    for _ in range(n):
        start = time.perf_counter()
        data = client.wait(client.upload())
        seen.append((time.perf_counter() - start) * 1e3)
        ids.append(data["id"])
    return {"client_ms": percentiles(seen), "server_ms": percentiles(server_latencies_ms(ids))}


def throughput(client: Client, *, clients: int, seconds: float) -> dict:
    """Closed loop: each client uploads, waits for its result, uploads again.

    Clients poll the way the result page does (250 ms, growing ×1.5 to 2 s): polling every few
    milliseconds would measure the polling, not the system.
    """
    stop, done = time.monotonic() + seconds, []

    def loop() -> None:
        while time.monotonic() < stop:
            done.append(client.wait(client.upload(), poll=0.25, backoff=1.5)["status"])

    start = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(loop)
    elapsed = time.monotonic() - start
    return {"uploads_per_s": round(len(done) / elapsed, 1), "uploads": len(done),
            "failed": done.count("failed"), "clients": clients, "seconds": round(elapsed, 1)}


def overload(client: Client, *, rate: float, seconds: float) -> dict:
    """Open loop at ``rate`` uploads/s; then every upload must finish done, exactly once."""
    from web.uploads.models import Upload

    interval, start = 1.0 / rate, time.monotonic()
    with ThreadPoolExecutor(32) as pool:
        futures = []
        for i in range(int(rate * seconds)):
            time.sleep(max(0.0, start + i * interval - time.monotonic()))
            futures.append(pool.submit(client.upload))
        ids = [f.result().rstrip("/").rsplit("/", 1)[1] for f in futures]
    offered_s = time.monotonic() - start
    # Each upload belongs to the session of the thread that sent it; the rows tell the outcome directly.
    rows = Upload.objects.filter(id__in=ids)
    deadline = time.monotonic() + 600
    while rows.exclude(status__in=["done", "failed"]).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    statuses = list(rows.values_list("status", "attempts"))
    first_queued = min(rows.values_list("queued_at", flat=True))
    finished = [f for f in rows.values_list("finished_at", flat=True) if f]
    # Saturation throughput: with a backlog always waiting, how fast the workers clear it.
    processed_s = (max(finished) - first_queued).total_seconds() if finished else float("inf")
    return {"offered_per_s": round(len(ids) / offered_s, 1), "uploads": len(ids),
            "processed_per_s": round(len(finished) / processed_s, 1),
            "done": sum(s == "done" for s, _ in statuses), "failed": sum(s == "failed" for s, _ in statuses),
            "lost": len(ids) - sum(s in ("done", "failed") for s, _ in statuses),
            "read_more_than_once": sum(a > 1 for _, a in statuses),
            "drained_s": round(time.monotonic() - start, 1)}


def baseline_read_ms(png: bytes, n: int = 50) -> float:
    """Median in-process time of decoding and reading the same image: the floor the system adds to."""
    import ml

    model = ml.load_checkpoint(ml.DEFAULT_CHECKPOINT)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        ml.read(ml.decode_image(png), model=model)
        times.append((time.perf_counter() - start) * 1e3)
    return round(statistics.median(times), 2)


def markdown(results: dict) -> str:
    lat, thr, over = results["latency"], results["throughput"], results["overload"]
    base = results["baseline_read_ms"]
    return "\n".join([
        "# Web system benchmark", "",
        f"{results['machine']}; {results['processes']} worker processes, gunicorn, Redis, PostgreSQL; "
        f"command: `{results['command']}`.", "",
        "| measure | value | target |", "|---|---|---|",
        f"| latency at low load, server (queued → finished) p50 / p95 | {lat['server_ms']['p50']} / "
        f"{lat['server_ms']['p95']} ms | p50 ≤ 150 ms |",
        f"| latency at low load, client (POST → done seen) p50 / p95 | {lat['client_ms']['p50']} / "
        f"{lat['client_ms']['p95']} ms | |",
        f"| baseline: decode + `ml.read` of the same image in one process, median | {base} ms | |",
        f"| server p50 ÷ baseline (what queueing, storage and the database add) | "
        f"{lat['server_ms']['p50'] / base:.1f}× | |",
        f"| sustained throughput, closed loop ({thr['clients']} clients polling like the result page) | "
        f"{thr['uploads_per_s']} uploads/s | ≥ 30/s |",
        f"| saturation throughput (backlog cleared during the overload phase) | "
        f"{over['processed_per_s']} uploads/s | ≥ 30/s |",
        f"| overload: offered {over['offered_per_s']}/s, {over['uploads']} uploads | {over['done']} done, "
        f"{over['failed']} failed, {over['lost']} lost, drained in {over['drained_s']} s | none lost |",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "web")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--processes", type=int, default=2, help="Celery inference processes (default 2)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-n", type=int, default=100, help="sequential uploads (default 100)")
    parser.add_argument("--clients", type=int, default=32, help="closed-loop clients (default 32)")
    parser.add_argument("--seconds", type=float, default=20, help="throughput phase length (default 20)")
    parser.add_argument("--overload", type=float, default=4.0, help="× sustained rate offered (default 4)")
    args = parser.parse_args(argv)

    var = Path(tempfile.mkdtemp(prefix="digitscan-bench-"))
    env = {**os.environ, "DATABASE_URL": f"{args.postgres}/{DB}", "CELERY_BROKER_URL": args.redis,
           "DIGITSCAN_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "web.settings",
           "DIGITSCAN_LOG_LEVEL": "WARNING",
           # One client sends every upload here: the per-client rate would stop the load it measures.
           "DIGITSCAN_UPLOAD_RATE": "100000/minute", "DIGITSCAN_API_RATE": "1000000/minute"}
    fresh_database(args.postgres)
    os.environ.update(env)
    import django

    django.setup()
    from web.celery import app

    app.control.purge()
    baseline = baseline_read_ms(sample_png())  # before the stack starts: the machine is quiet
    stack = Stack(env, port=args.port, processes=args.processes, web_workers=args.web_workers, logs=var)
    try:
        client = Client(stack.url, sample_png())
        for _ in range(60):  # until the site answers and a worker has loaded its model
            try:
                client.wait(client.upload(), timeout=60)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        results = {"latency": latency(client, args.latency_n),
                   "throughput": throughput(client, clients=args.clients, seconds=args.seconds)}
        rate = args.overload * max(results["throughput"]["uploads_per_s"], 1.0)
        results["overload"] = overload(client, rate=rate, seconds=min(args.seconds, 10))
    finally:
        stack.stop()
    from ml.machine import machine

    given = argv if argv is not None else sys.argv[1:]
    m = machine()
    results.update(baseline_read_ms=baseline, processes=args.processes,
                   command=" ".join(["python deploy/benchmark_web.py", *given]),
                   machine=f"{m['processor']}, {os.cpu_count()} cores, {m['platform']}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
