"""A whole DigitScan on private services, to break: PostgreSQL and Redis of its own (never the machine's
shared ones), gunicorn, inference workers and beat, each a real process that a test can stop or kill.

Used by tests/worker/test_faults.py and by ``python -m tests.worker.measure_faults`` (the figures).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

from tests.worker.processes import ROOT, WorkerProcess, child_env, children, wait_for

BIN = Path("/usr/local/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> dict:
    """PostgreSQL refuses to run as root: its processes run as the ``postgres`` user then."""
    return {"user": "postgres"} if os.geteuid() == 0 else {}


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder on a free port (trust auth), stopped and started at will."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="digitscan-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run([BIN / "initdb", "-D", self.dir / "data", "-U", "postgres", "-A", "trust", "--no-sync",
                        "-E", "UTF8"], check=True, capture_output=True, timeout=120, **_as_postgres())
        self.start()
        self._sql("CREATE DATABASE digitscan")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/digitscan"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c max_connections=200")
        subprocess.run([BIN / "pg_ctl", "-D", self.dir / "data", "-o", options, "-l", self.dir / "log", "-w",
                        "start"], check=True, capture_output=True, timeout=60, **_as_postgres())

    def stop(self) -> None:
        """A fast shutdown: every session is cut, as when the server goes away."""
        subprocess.run([BIN / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop"], check=True,
                       capture_output=True, timeout=60, **_as_postgres())

    def _sql(self, statement: str, db: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db,
                             autocommit=True) as conn:
            conn.execute(statement)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="digitscan") as conn:
            return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """redis-server on a free port; its append-only file keeps the queue across a stop and start."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="digitscan-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, wiped: bool = False) -> None:
        """Start it (``wiped``: with nothing of what it held before, as a Redis without persistence)."""
        if wiped:
            shutil.rmtree(self.dir)
            self.dir.mkdir()
        self.proc = subprocess.Popen(
            ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "yes", "--logfile", str(self.dir / "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self._answers, timeout=20, what="private redis up")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)  # a clean shutdown: the append-only file is flushed
        self.proc.wait(timeout=30)

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def tiny_checkpoint(folder: Path) -> Path:
    """An untrained small CNN (the flow tests' tiny model): loads in milliseconds, reads wrong digits."""
    import torch

    from ml.models.checkpoint import save_checkpoint
    from ml.models.classifiers import build

    torch.manual_seed(0)
    return save_checkpoint(build("cnn", {"channels": (8, 16), "linear": 32}), folder / "tiny-cnn.pt",
                           name="tiny-cnn", metrics={"accuracy": 0.1})


class Process:
    """A command in its own process group, its output in ``log``."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._out.close()


class Stack:
    """PostgreSQL, Redis, gunicorn (2 processes), ``workers`` inference workers and beat, all private."""

    def __init__(self, root: Path, *, workers: int = 1, **env: str) -> None:
        self.root = root
        self.pg, self.redis = PrivatePostgres(), PrivateRedis()
        self.env = child_env(
            DATABASE_URL=self.pg.url, CELERY_BROKER_URL=self.redis.url, DIGITSCAN_VAR_DIR=root / "var",
            DIGITSCAN_MEDIA_ROOT=root / "media", DIGITSCAN_DEFAULT_CHECKPOINT=tiny_checkpoint(root),
            DJANGO_DEBUG="0", SECRET_KEY="fault-tests", DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_COOKIES="0",  # plain HTTP on 127.0.0.1: the client must get its session back
            DIGITSCAN_UPLOAD_RATE="100000/minute", DIGITSCAN_API_RATE="100000/minute", **env)
        subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=self.env,
                       check=True, timeout=300)
        self.port = free_port()
        # One client, like a browser: its session cookie names the owner of the uploads it sends.
        self._client = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.web = Process([sys.executable, "-m", "gunicorn", "web.wsgi", "-b", f"127.0.0.1:{self.port}",
                            "-w", "2", "-k", "gthread", "--threads", "4", "--timeout", "60"],
                           self.env, root / "web.log")
        self.beat = Process([sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel", "INFO",
                             "--pidfile", str(root / "beat.pid"), "-s", str(root / "beat-schedule")],
                            self.env, root / "beat.log")
        self.workers: list[WorkerProcess] = []
        self.logs: list[Path] = []
        for _ in range(workers):
            self.start_worker()
        wait_for(self._web_answers, timeout=60, what=f"gunicorn up\n{self.tail('web.log')}")

    def start_worker(self) -> WorkerProcess:
        log = self.root / f"worker-{len(self.logs)}.log"
        worker = WorkerProcess(self.env, log)
        self.logs.append(log)
        self.workers.append(worker)
        worker.wait_ready(timeout=120)
        return worker

    def _web_answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/schema/", timeout=5)
            return True
        except (urllib.error.URLError, OSError):
            return False

    def tail(self, name: str) -> str:
        path = self.root / name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def request(self, path: str, *, data: bytes | None = None, headers: dict | None = None,
                fresh: bool = False):
        """(status, headers, body) of one request to the site (``fresh``: from a new client, without a
        session yet); errors are answers too."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, headers=headers or {})
        client = urllib.request.build_opener() if fresh else self._client
        try:
            with client.open(req, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def upload(self, image: bytes, *, fresh: bool = False) -> str:
        """POST one image to the API like a client; the upload's id (fails on anything but 202)."""
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"d.png\"\r\n"
                f"Content-Type: image/png\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
        kind = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, _, answer = self.request("/api/v1/recognitions/", data=body, headers=kind, fresh=fresh)
        assert status == 202, (status, answer[:500])
        return json.loads(answer)["id"]

    def rows(self, ids: list[str]) -> dict[str, tuple]:
        """id → (status, attempts, error_code, finished_at) from the database."""
        found = self.pg.query("SELECT id::text, status, attempts, error_code, finished_at "
                              "FROM uploads_upload WHERE id::text = ANY(%s)", (ids,))
        return {row[0]: row[1:] for row in found}

    def reads(self, phrase: str = " read in ") -> dict[str, int]:
        """upload id → how many of the workers' log lines "upload <id>…" say ``phrase`` (by default: how
        many times its image was read)."""
        counts: dict[str, int] = {}
        for log in self.logs:
            for line in log.read_text(errors="replace").splitlines():
                if phrase in line and "upload " in line:
                    upload_id = line.split("upload ", 1)[1].split()[0].rstrip(":")
                    counts[upload_id] = counts.get(upload_id, 0) + 1
        return counts

    def worker_reading(self, upload_id: str) -> WorkerProcess | None:
        """The worker whose pool process holds ``upload_id``'s claim, if it is one of ours."""
        ((claim,),) = self.pg.query("SELECT claimed_by FROM uploads_upload WHERE id::text = %s", (upload_id,))
        pid = int(claim.split(":")[1]) if claim else 0
        return next((w for w in self.workers if pid in children(w.proc.pid)), None)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.beat.stop()
        self.web.stop()
        self.redis.close()
        self.pg.close()


def wait_finished(stack: Stack, ids: list[str], *, timeout: float) -> dict[str, tuple]:
    """Until every upload of ``ids`` is done or failed (or ``timeout``); their rows."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            rows = stack.rows(ids)
        except Exception:  # noqa: BLE001 - the database may still be starting
            rows = {}
        if len(rows) == len(ids) and all(r[0] in ("done", "failed") for r in rows.values()):
            return rows
        if time.monotonic() > deadline:
            return rows
        time.sleep(0.5)
