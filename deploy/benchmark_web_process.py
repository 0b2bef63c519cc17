"""What one web process costs (not a test): the memory of a gunicorn worker and the import of the upload
checks, each beside a baseline measured in the same command.

1. A gunicorn master with one worker (``web.wsgi``) on the embedded defaults in a temporary folder serves
   the pages people open and one upload through the API; then the worker's resident memory (VmRSS) is
   read, and whether it has torch's shared library mapped. Baseline: a bare Python process that imported
   Django and the decoding libraries (NumPy, OpenCV, Pillow) and nothing else.
2. ``import web.uploads.validation`` in fresh processes (median of ``--runs``), and whether that imported
   torch. Baseline: importing the decoding libraries alone, in other fresh processes, in turn with them.

    .venv/bin/python deploy/benchmark_web_process.py                  # this checkout
    .venv/bin/python deploy/benchmark_web_process.py --root OTHER     # another checkout, same interpreter
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Pages a visitor opens, in order; the upload goes through the API between them.
PAGES = ["/", "/history/", "/experiments/", "/model/", "/api/schema/"]
LIBRARIES = "import django, numpy, cv2, PIL.Image"


def env_for(root: Path, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_BROKER"))}
    return {**env, "PYTHONPATH": str(root), "DIGITSCAN_VAR_DIR": str(var),
            "DJANGO_SETTINGS_MODULE": "web.settings"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def maps_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def sample_png(root: Path) -> bytes:
    return (root / "docs" / "samples" / "digits.png").read_bytes()


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {seconds:g} s")


def gunicorn_worker(root: Path, var: Path) -> dict:
    """Serve PAGES and one upload with one gunicorn worker; its RSS and whether torch is mapped."""
    env = env_for(root, var)
    subprocess.run([PY, "manage.py", "migrate", "--verbosity", "0"], cwd=root, env=env, check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    master = subprocess.Popen([PY, "-m", "gunicorn", "web.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
                               "1", "--log-level", "warning"], cwd=root, env=env)
    try:
        wait_until_up(base + "/", master)
        body, content_type = multipart("image", "digits.png", sample_png(root))
        request = urllib.request.Request(base + "/api/v1/recognitions/", data=body, method="POST",
                                         headers={"Content-Type": content_type})
        status = urllib.request.urlopen(request, timeout=60).status
        for page in PAGES:
            urllib.request.urlopen(base + page, timeout=60).read()
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
        assert len(children) == 1, f"expected one gunicorn worker, found {children}"
        pid = int(children[0])
        return {"upload_status": status, "rss_kib": rss_kib(pid), "torch_mapped": maps_torch(pid)}
    finally:
        master.terminate()
        master.wait(timeout=30)


def bare_libraries(root: Path, var: Path) -> int:
    """The RSS of a Python process that imported Django and the decoding libraries, nothing else."""
    code = f"{LIBRARIES}; import sys; sys.stdout.write('ready\\n'); sys.stdout.flush(); input()"
    proc = subprocess.Popen([PY, "-c", code], cwd=root, env=env_for(root, var), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        return rss_kib(proc.pid)
    finally:
        proc.communicate("\n", timeout=30)


def timed_import(root: Path, var: Path, statement: str) -> tuple[float, bool]:
    """ms to run ``statement`` in a fresh interpreter, and whether torch was imported by then."""
    code = (f"import time, json, sys; t0 = time.perf_counter(); {statement}; "
            "print(json.dumps([1e3 * (time.perf_counter() - t0), 'torch' in sys.modules]))")
    out = subprocess.run([PY, "-c", code], cwd=root, env=env_for(root, var), capture_output=True, text=True,
                         check=True).stdout
    ms, torch = json.loads(out.strip().splitlines()[-1])
    return ms, torch


def import_times(root: Path, var: Path, runs: int) -> dict:
    """Median ms of importing the upload checks and, alternating with it, of the decoding libraries alone."""
    checks, libraries, torch = [], [], False
    for _ in range(runs):
        ms, loaded = timed_import(root, var, "import web.uploads.validation")
        checks.append(ms)
        torch = torch or loaded
        libraries.append(timed_import(root, var, LIBRARIES)[0])
    return {"validation_import_ms": round(statistics.median(checks), 1),
            "libraries_import_ms": round(statistics.median(libraries), 1), "torch_imported": torch}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes for the import time")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    root = args.root.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        worker = gunicorn_worker(root, var)
        bare = bare_libraries(root, var)
        imports = import_times(root, var, args.runs)
    result = {"root": str(root), **worker, "bare_rss_kib": bare,
              "rss_over_bare": round(worker["rss_kib"] / bare, 2), **imports,
              "import_over_libraries": round(imports["validation_import_ms"] / imports["libraries_import_ms"],
                                             2)}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"checkout: {root}")
    print(f"gunicorn worker after {len(PAGES)} pages and one upload (HTTP {worker['upload_status']}): "
          f"{worker['rss_kib'] / 1024:.0f} MiB RSS, torch "
          f"{'mapped' if worker['torch_mapped'] else 'not mapped'}; "
          f"{result['rss_over_bare']:.2f}× a process that imported Django, NumPy, OpenCV and Pillow only "
          f"({bare / 1024:.0f} MiB)")
    print(f"import web.uploads.validation: {imports['validation_import_ms']:.0f} ms (median of {args.runs}), "
          f"{result['import_over_libraries']:.2f}× importing Django, NumPy, OpenCV and Pillow alone "
          f"({imports['libraries_import_ms']:.0f} ms); torch "
          f"{'imported' if imports['torch_imported'] else 'not imported'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
