"""Abuse probes against the site as deploy/start.sh serves it (gunicorn + deploy/gunicorn.conf.py, the
embedded defaults in a scratch folder): the rows of docs/results/reliability.md's abuse table, measured.

    .venv/bin/python deploy/abuse_probe.py            # prints a Markdown table; about half a minute

Each probe says what happened over real sockets; times are ratios to a plain GET of the same site in
the same run where a time matters (these machines are shared and noisy).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JSON = "Content-Type: application/json\r\n"
TOKEN = "/api/v1/token/"
sys.path.insert(0, str(ROOT))

from tests.deploy.servers import (  # noqa: E402 - the same servers the tests start
    free_port,
    hold_slow_clients,
    quick_get,
    read_response,
    send_headers,
    start_gunicorn,
    stop,
)
from tests.web.helpers import png_bytes  # noqa: E402


def request(port: int, method: str, path: str, body: bytes = b"",
            headers: str = "") -> tuple[int, dict, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    head, _, payload = read_response(sock).partition(b"\r\n\r\n")
    sock.close()
    lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), fields, payload


def multipart(data: bytes, name: bytes = b"d.png") -> tuple[bytes, str]:
    body = (b"--B\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + name + b"\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + data + b"\r\n--B--\r\n")
    return body, "Content-Type: multipart/form-data; boundary=B\r\n"


def timed_get(port: int) -> float:
    start = time.perf_counter()
    quick_get(port, "/api/nothing/")
    return time.perf_counter() - start


def probe_body(port: int, size: int) -> str:
    start = time.perf_counter()
    sock = send_headers(port, "Expect: 100-continue\r\n", length=size)
    answer = read_response(sock)
    sock.close()
    ms = (time.perf_counter() - start) * 1e3
    status = answer.split(b" ", 2)[1].decode()
    return f"{status} after {ms:.0f} ms, 0 bytes of the body sent (no 100 Continue)"


def probe_slow(port: int) -> str:
    baseline = sorted(timed_get(port) for _ in range(5))[2]
    slow = hold_slow_clients(port, 6)
    try:
        during = sorted(timed_get(port) for _ in range(5))[2]
    finally:
        for sock in slow:
            sock.close()
    return f"GET answered at {during / baseline:.1f}× its time without them"


def probe_uploads(port: int) -> str:
    body, kind = multipart(png_bytes())
    start, answers, retry = time.perf_counter(), [], ""
    for _ in range(40):
        status, fields, _ = request(port, "POST", "/api/v1/recognitions/", body, kind)
        answers.append(status)
        retry = fields.get("retry-after", retry)
    took = time.perf_counter() - start
    return (f"{answers.count(202)} accepted, {answers.count(429)} refused 429 (Retry-After {retry} s) "
            f"of 40 in {took:.1f} s")


def probe_logins(port: int) -> str:
    subprocess.run([sys.executable, "manage.py", "shell", "-c",
                    "from django.contrib.auth.models import User; User.objects.create_user('ann', password="
                    "'a-long-password-9')"], cwd=ROOT, check=True, capture_output=True)
    answers = []
    for _ in range(60):
        status, _, _ = request(port, "POST", TOKEN, b'{"username": "ann", "password": "wrong"}', JSON)
        answers.append(status)
    right, _, _ = request(port, "POST", TOKEN, b'{"username": "ann", "password": "a-long-password-9"}', JSON)
    first = answers.index(429) + 1 if 429 in answers else None
    return (f"attempts 1–{first - 1} 400, from attempt {first} of 60 on 429; the right password then: {right}"
            if first else f"never locked out; the right password then: {right}")


def probe_errors(port: int) -> str:
    shapes = []
    for method, path in [("GET", "/api/v1/nope/"), ("DELETE", "/api/v1/recognitions/"),
                         ("POST", "/api/v1/recognitions/")]:
        status, fields, payload = request(port, method, path)
        ok = fields.get("content-type", "").startswith("application/json") and "error" in json.loads(payload)
        shapes.append(f"{status} {'JSON' if ok else 'not JSON'}")
    return ", ".join(shapes)


def probe_feedback(port: int) -> str:
    body, kind = multipart(png_bytes())
    _, fields, payload = request(port, "POST", "/api/v1/recognitions/", body, kind)
    cookie = fields.get("set-cookie", "").split(";")[0]
    upload = json.loads(payload)["id"]
    # No worker here: the reading is recorded as a worker would (empty), since only a read upload is
    # corrected.
    subprocess.run([sys.executable, "manage.py", "shell", "-c",
                    "from web.uploads.services import upload_finish, upload_start; "
                    f"upload_start(upload_id='{upload}'); upload_finish(upload_id='{upload}', "
                    "reading={'text': '', 'lines': [], 'digits': []}, timings={}, annotated_png=b'', "
                    "model_version=None)"],
                   cwd=ROOT, check=True, capture_output=True)
    status, _, answer = request(port, "POST", f"/api/v1/recognitions/{upload}/feedback/",
                                json.dumps({"text": "72²"}).encode(),
                                f"Content-Type: application/json\r\nCookie: {cookie}\r\n")
    stored = json.loads(answer).get("text") if status == 201 else answer.decode()
    return f"{status}, stored as `{stored}`"


def probe_name(port: int) -> str:
    body, kind = multipart(png_bytes(), b"\xff\xfe\xe9t\xe9.png")
    status, _, answer = request(port, "POST", "/api/v1/recognitions/", body, kind)
    return f"{status} {json.loads(answer)['error']['code']}"


def main() -> None:
    var, port = Path(tempfile.mkdtemp(prefix="digitscan-abuse-")), free_port()
    import os

    os.environ.update(DIGITSCAN_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="web.settings")
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    site = start_gunicorn(var, port)
    # The upload burst last: the probes before it upload from the same address.
    rows = [("6 slow clients (a byte now and then)", probe_slow),
            ("a 50 MB body", lambda p: probe_body(p, 50 * 1024 * 1024)),
            ("a 500 MB body", lambda p: probe_body(p, 500 * 1024 * 1024)),
            ("60 wrong passwords, then the right one", probe_logins),
            ("errors outside DRF (404, 405, 400)", probe_errors),
            ('feedback "72²"', probe_feedback),
            ("a file name that is not UTF-8", probe_name),
            ("40 anonymous uploads at once", probe_uploads)]
    try:
        print("| abuse | what happened |\n|---|---|")
        for label, probe in rows:
            print(f"| {label} | {probe(port)} |", flush=True)
    finally:
        stop(site)


if __name__ == "__main__":
    main()
