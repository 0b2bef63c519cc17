"""The site's servers for the deploy tests, started for real: gunicorn as deploy/gunicorn.conf.py sets it
up, and nginx with docker-compose.yml's deploy/nginx.conf in front of it; raw sockets to talk to them."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.worker.processes import child_env

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
    raise AssertionError(f"nothing listening on {port}:\n{log.read_text()}")


def start_gunicorn(var: Path, port: int, *args: str) -> subprocess.Popen:
    """gunicorn on the embedded defaults in ``var`` (migrated first, so uploads can be stored)."""
    env = child_env(DJANGO_SETTINGS_MODULE="web.settings", DIGITSCAN_VAR_DIR=var)
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env,
                   check=True, timeout=180)
    log = var / "gunicorn.log"
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "web.wsgi",
                             "--bind", f"127.0.0.1:{port}", *args], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_listening(port, proc, log)
    return proc


def start_nginx(folder: Path, port: int, upstream: int) -> subprocess.Popen:
    """nginx running deploy/nginx.conf as docker-compose.yml mounts it, in front of 127.0.0.1:upstream."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("server web:8000;", f"server 127.0.0.1:{upstream};")
    site = re.sub(r"listen 8080;", f"listen 127.0.0.1:{port};", site)
    (folder / "site.conf").write_text(site)
    (folder / "nginx.conf").write_text(
        f"worker_processes 1;\nerror_log {folder}/error.log;\npid {folder}/nginx.pid;\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + f"events {{ worker_connections 256; }}\nhttp {{\n  access_log {folder}/access.log;\n"
        f"  client_body_temp_path {folder}/body;\n  proxy_temp_path {folder}/proxy;\n"
        f"  fastcgi_temp_path {folder}/fcgi;\n  uwsgi_temp_path {folder}/uwsgi;\n"
        f"  scgi_temp_path {folder}/scgi;\n"
        f"  include {folder}/site.conf;\n}}\n")
    log = folder / "nginx.out"
    proc = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_listening(port, proc, log)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def send_headers(port: int, extra: str = "", length: int = 50 * 1024 * 1024) -> socket.socket:
    """A POST to the API announcing a body of ``length`` bytes, and none of it sent yet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall((f"POST /api/v1/recognitions/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: {length}\r\n"
                  f"{extra}\r\n").encode())
    return sock


def read_response(sock: socket.socket) -> bytes:
    """One HTTP answer (its head and a Content-Length body), as it came."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), b"0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def hold_slow_clients(port: int, n: int) -> list[socket.socket]:
    """``n`` clients that have sent part of their headers and then stall (a byte now and then)."""
    slow = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(n)]
    for sock in slow:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return slow


def answers_while_stalled(port: int, stalled: int, rounds: int = 3) -> list[bytes]:
    """What ``port`` answers a quick GET, ``rounds`` times, while ``stalled`` clients trickle in headers."""
    slow, answers = hold_slow_clients(port, stalled), []
    try:
        for _ in range(rounds):
            for sock in slow:
                sock.sendall(b"a")
            answers.append(quick_get(port))
    finally:
        for sock in slow:
            sock.close()
    return answers


def quick_get(port: int, path: str = "/api/nothing/") -> bytes:
    quick = socket.create_connection(("127.0.0.1", port), timeout=20)
    quick.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    try:
        return read_response(quick)
    finally:
        quick.close()
