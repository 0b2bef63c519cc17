"""The whole flow with a real Celery worker process: upload over HTTP → broker → worker → result.

Once against the running Redis and PostgreSQL (the test database Django created), once on the embedded
defaults (SQLite and the SQLite-file Celery queue of web/broker.py) with no servers at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from django.db import connection

from tests.web.helpers import png_bytes
from tests.worker.processes import ROOT, WorkerProcess, child_env, wait_for


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_read_by_a_real_worker_over_redis_and_postgres(client, redis_postgres_worker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert connection.vendor == "postgresql"
    response = client.post("/api/v1/recognitions/", {"image": SimpleUploadedFile("d.png", png_bytes())})
    assert response.status_code == 202, response.content
    url = response.json()["url"]

    def finished():
        data = client.get(url).json()
        return data if data["status"] in ("done", "failed") else None

    data = wait_for(finished, timeout=60, what=f"upload finished\n{redis_postgres_worker.output()}")
    assert data["status"] == "done", data
    assert data["model_version"] == "tiny-cnn" and data["digits"] and data["error"] is None
    annotated = client.get(data["annotated_image_url"])
    assert annotated.status_code == 200 and annotated["Content-Type"] == "image/png"
    assert b"".join(annotated.streaming_content).startswith(b"\x89PNG")
    screen = client.get(data["screen_image_url"])  # what the pages show: a JPEG sized for the screen
    assert screen.status_code == 200 and screen["Content-Type"] == "image/jpeg"
    assert b"".join(screen.streaming_content).startswith(b"\xff\xd8\xff")
    # The model was loaded once, in the child process after the fork, before the first task.
    assert redis_postgres_worker.output().count("loaded model version") == 1
    cores = len(os.sched_getaffinity(0))
    assert f"one of 1, with {cores} torch threads" in redis_postgres_worker.output()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_running_worker_switches_to_a_newly_activated_version(client, redis_postgres_worker, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ml.models.checkpoint import save_checkpoint
    from ml.models.classifiers import build
    from web.registry.services import model_version_activate, model_version_register

    def read_once() -> dict:
        response = client.post("/api/v1/recognitions/", {"image": SimpleUploadedFile("d.png", png_bytes())})
        url = response.json()["url"]
        return wait_for(lambda: (d := client.get(url).json())["status"] in ("done", "failed") and d,
                        timeout=60, what=f"upload finished\n{redis_postgres_worker.output()}")

    assert read_once()["model_version"] == "tiny-cnn"
    newer = save_checkpoint(build("cnn", {"channels": (8, 16), "linear": 16}, seed=1), tmp_path / "newer.pt",
                            name="newer-cnn")
    model_version_activate(version=model_version_register(path=newer))
    assert read_once()["model_version"] == "newer-cnn"  # no restart in between


EMBEDDED_CLIENT = textwrap.dedent("""
    import json, sys, time
    import django
    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    client = Client()
    with open(sys.argv[1], "rb") as f:
        response = client.post("/api/v1/recognitions/", {"image": SimpleUploadedFile("d.png", f.read())})
    assert response.status_code == 202, response.content
    url = response.json()["url"]
    for _ in range(300):
        data = client.get(url).json()
        if data["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    print(json.dumps({"vendor": connection.vendor, **data}))
""")


def test_an_upload_is_read_by_a_real_worker_on_the_embedded_defaults(tmp_path, tiny_checkpoint):
    """No servers: SQLite under var/, the Celery queue in var/broker.sqlite3, files under var/media."""
    var = tmp_path / "var"
    env = child_env(DIGITSCAN_VAR_DIR=var, DIGITSCAN_DEFAULT_CHECKPOINT=tiny_checkpoint,
                    DJANGO_SETTINGS_MODULE="web.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env,
                   check=True, timeout=120)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        image = tmp_path / "digits.png"
        image.write_bytes(png_bytes())
        run = subprocess.run([sys.executable, "-c", EMBEDDED_CLIENT, str(image)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr + worker.output()
        data = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        worker.stop()
    assert data["vendor"] == "sqlite" and (var / "db.sqlite3").exists()
    assert data["status"] == "done", (data, worker.output())
    assert data["model_version"] == "tiny-cnn"
    assert list((var / "media" / "uploads").glob("*/annotated.png"))
    assert (var / "broker.sqlite3").exists() and (var / "secret_key").exists()
    # The message was claimed and its row deleted: nothing waits, and the file keeps no consumed ones.
    with sqlite3.connect(var / "broker.sqlite3") as broker:
        assert broker.execute("SELECT count(*) FROM kombu_message").fetchone() == (0,)
