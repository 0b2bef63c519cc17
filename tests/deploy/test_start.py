"""deploy/start.sh and its supervisor (deploy/supervise.py), run for real on the embedded defaults.

start.sh runs in a temporary DIGITSCAN_VAR_DIR on a free port with no servers (DIGITSCAN_SKIP_SETUP=1:
the .venv exists). Its children are SIGKILLed one by one; the supervisor must say so, start them again,
and the site must answer again; SIGTERM must then stop every process it started.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from tests.worker.processes import ROOT, child_env, children, wait_for

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")  # start.sh's and the supervisor's lines
LOG_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")  # Django's LOGGING format


class Output:
    """A process's output lines, collected by a thread as they come."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def find(self, pattern: str) -> list[re.Match]:
        return [m for line in list(self.lines) if (m := re.search(pattern, line))]

    def text(self) -> str:
        return "\n".join(self.lines[-80:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def serves_like_production(port: int, var: Path) -> None:
    """DEBUG off: the site's own 404 page, not Django's with the URL list; static files still served;
    the secret key generated into var/, readable by its owner only."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page/", timeout=5)
        raise AssertionError("a missing page answered 200")
    except urllib.error.HTTPError as missing:
        page = missing.read().decode()
        assert missing.code == 404 and "URLconf" not in page and "DigitScan" in page, page[:500]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/digitscan/digitscan.css", timeout=5) as css:
        assert css.status == 200 and css.read()
    key = var / "secret_key"
    assert len(key.read_text().strip()) >= 50 and key.stat().st_mode & 0o077 == 0


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def wait_seen(out: Output, predicate, *, timeout: float, what: str):
    """wait_for, with the process's latest output in the failure's message."""
    try:
        return wait_for(predicate, timeout=timeout, what=what)
    except AssertionError as failure:
        raise AssertionError(f"{failure}; its output:\n{out.text()}") from None


def started_pid(out: Output, name: str, nth: int = 0) -> int | None:
    found = out.find(rf"supervise: started {name} \(pid (\d+)")
    return int(found[nth][1]) if len(found) > nth else None


def test_start_sh_restarts_a_killed_process_and_stops_everything(tmp_path):
    var, port = tmp_path / "var", free_port()
    env = child_env(DIGITSCAN_VAR_DIR=var, DIGITSCAN_SKIP_SETUP="1", INFERENCE_PROCESSES="1")
    proc = subprocess.Popen(["deploy/start.sh", str(port)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    out = Output(proc)
    try:
        wait_seen(out, lambda: answers(port), timeout=120, what="the site answering")
        serves_like_production(port, var)
        gunicorn, inference = started_pid(out, "gunicorn"), started_pid(out, "inference worker")
        log = var / "log" / "worker-inference.log"
        wait_seen(out, lambda: children(inference) and b" ready." in log.read_bytes(), timeout=120,
                 what="the inference worker ready")
        pool = children(inference)

        os.kill(gunicorn, signal.SIGKILL)
        wait_seen(out, lambda: started_pid(out, "gunicorn", 1), timeout=30, what="gunicorn restarted")
        assert out.find(rf"gunicorn \(pid {gunicorn}\) ended after .* with killed by SIGKILL; restarting it")
        wait_seen(out, lambda: answers(port), timeout=60, what="the site answering again")

        os.kill(inference, signal.SIGKILL)
        wait_seen(out, lambda: started_pid(out, "inference worker", 1), timeout=30, what="worker restarted")
        assert out.find(rf"inference worker \(pid {inference}\) ended .* killed by SIGKILL; restarting it")
        wait_seen(out, lambda: not any(alive(p) for p in pool), timeout=10, what="old pool gone")
        wait_seen(out, lambda: log.read_bytes().count(b" ready.") == 2, timeout=120, what="new worker ready")
        assert alive(started_pid(out, "inference worker", 1)) and answers(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=90)
    names = ("gunicorn", "inference worker", "training worker", "beat")
    everyone = [started_pid(out, name, i) for name in names for i in (0, 1)]
    assert status == 0 and out.find(r"supervise: stopped$"), out.text()
    assert not [pid for pid in everyone if pid and alive(pid)]
    own = [line for line in out.lines if "start.sh:" in line or "supervise:" in line]
    assert len(own) >= 8 and all(STAMP.match(line) for line in own), own
    ready = [line for line in log.read_text().splitlines() if " ready." in line]
    assert len(ready) == 2 and all(LOG_STAMP.match(line) for line in ready), ready


FLAKY = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("supervise", sys.argv[1])
supervise = sys.modules["supervise"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(supervise)
child = supervise.Child("flaky", [sys.executable, "-c", "import sys; sys.exit(3)"], None)
sys.exit(supervise.Supervisor([child], stop_timeout=5).run())
"""


def test_a_process_that_dies_again_and_again_is_restarted_ever_more_slowly():
    proc = subprocess.Popen([sys.executable, "-c", FLAKY, str(ROOT / "deploy" / "supervise.py")],
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    out = Output(proc)
    try:
        wait_seen(out, lambda: len(out.find("restarting it in")) >= 4, timeout=60, what="4 restarts")
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=30)
    delays = [m[1] for m in out.find(r"flaky \(pid \d+\) ended after .* with exit status 3; "
                                     r"restarting it in (\S+) s")]
    assert delays[:4] == ["1", "2", "4", "8"], out.text()
    assert status == 0 and out.find(r"supervise: stopped$")
    # Between the announced delays nothing starts it: one start per exit, plus the first.
    assert len(out.find(r"started flaky")) <= len(delays) + 1
