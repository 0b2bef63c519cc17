"""Benchmark and ablation runs on a real training worker (Redis, PostgreSQL, files in storage), and a
schedule made in the admin that django-celery-beat's database scheduler sends to that worker."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from tests.web.helpers import untranslated_log_lines
from tests.worker.processes import wait_for
from web.registry.models import ExperimentRun
from web.registry.services import experiment_run_create, experiment_run_enqueue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n"
# Tiny on purpose: a few hundred MNIST images and one epoch, so each run takes seconds on two cores.
TINY_BENCHMARK = {"families": "logreg,cnn", "limit": 300, "epochs": 1}
TINY_ABLATION = {"studies": "pool", "limit": 300, "epochs": 1, "seeds": 2}


def finished(run_id: int, worker, timeout: float = 180) -> ExperimentRun:
    return wait_for(lambda: ExperimentRun.objects.filter(id=run_id, status__in=["done", "failed"]).first(),
                    timeout=timeout, interval=0.5, what=f"run {run_id} finished\n{worker.output()}")


def stored(run: ExperimentRun) -> dict[str, bytes]:
    """The run's artifacts read back from storage, by file name."""
    files = {}
    for name in run.artifacts:
        with default_storage.open(name, "rb") as f:
            files[Path(name).name] = f.read()
    return files


def test_a_tiny_benchmark_runs_on_the_training_worker_and_its_table_and_plot_land_in_storage(
        start_worker, client):
    worker = start_worker(queues="training")
    run = finished(experiment_run_create(kind="benchmark", params=TINY_BENCHMARK).id, worker)
    assert run.status == "done", run.error + run.log
    assert run.progress == 1.0 and run.started and run.finished
    assert [r["family"] for r in run.results["rows"]] == ["logreg", "cnn"]
    assert run.results["train_samples"] == 300 and run.results["test_samples"] == 200
    assert all(0 <= r["accuracy"] <= 100 and r["train_seconds"] > 0 for r in run.results["rows"])
    assert "cnn: epoch 1/1" in run.log and "logreg: test accuracy" in run.log
    assert untranslated_log_lines(run) == []  # every line the worker wrote reads in Chinese on its page
    files = stored(run)
    assert set(files) == {"benchmark.png", "results.md", "results.json"}
    assert files["benchmark.png"].startswith(PNG) and len(files["benchmark.png"]) > 10_000
    assert "| Logistic regression |" in files["results.md"].decode()
    assert json.loads(files["results.json"])["rows"][1]["family"] == "cnn"

    html = client.get("/experiments/").content.decode()  # the page now shows this run, not docs/results
    assert f"experiment run #{run.id}" in html and "Convolutional network" in html
    (figure,) = re.findall(r'href="(/experiments/runs/[^"]+\.png)"', html)  # among its files
    assert b"".join(client.get(figure).streaming_content) == files["benchmark.png"]


def test_a_tiny_ablation_runs_on_the_training_worker_and_its_tables_and_plots_land_in_storage(start_worker):
    worker = start_worker(queues="training")
    run = finished(experiment_run_create(kind="ablate", params=TINY_ABLATION).id, worker)
    assert run.status == "done", run.error + run.log
    assert run.progress == 1.0
    rows = run.results["studies"]["pool"]
    assert [r["variant"] for r in rows] == ["max", "avg", "none"] and all(r["seeds_done"] == 2 for r in rows)
    assert "6 models to train" in run.log and "6/6: pool" in run.log
    assert untranslated_log_lines(run) == []
    files = stored(run)
    assert {"pool.png", "ablation.md", "results.json"} <= set(files)
    assert files["pool.png"].startswith(PNG) and len(files["pool.png"]) > 10_000
    assert "## pool: Pooling after each conv block" in files["ablation.md"].decode()


def test_a_run_that_cannot_run_ends_failed_and_says_why(start_worker):
    worker = start_worker(queues="training")
    # A row the services would refuse (written by hand, or by an older version with other studies).
    run = ExperimentRun.objects.create(kind="ablate", params={"studies": ["pool", "depth"], "epochs": 1})
    experiment_run_enqueue(run=run)  # outside a transaction: sent at once
    run = finished(run.id, worker)
    assert run.status == "failed" and run.finished is not None
    assert run.error.startswith("unknown studies: depth (choose from pool, layers"), run.error
    assert run.artifacts == [] and run.results == {}


def test_a_schedule_added_in_the_admin_is_sent_by_the_database_scheduler_and_queues_a_run(
        start_worker, client, django_user_model):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from web.celery import app

    worker = start_worker(queues="training")
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    client.force_login(django_user_model.objects.create_superuser("staff", password="x-long-password-9"))
    response = client.post("/admin/django_celery_beat/periodictask/add/", {
        "name": "tiny benchmark", "task": "worker.tasks.benchmark_periodically", "enabled": "on",
        "interval": every_second.id, "args": "[]", "kwargs": json.dumps({"families": "logreg", "limit": 300}),
        "queue": "training", "headers": "{}", "description": "",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    assert PeriodicTask.objects.get(name="tiny benchmark").enabled

    scheduler = DatabaseScheduler(app=app)
    try:
        assert scheduler.schedule["tiny benchmark"].task == "worker.tasks.benchmark_periodically"
        deadline = time.monotonic() + 60
        while not ExperimentRun.objects.exists() and time.monotonic() < deadline:
            # tick() sends the task once it is due, as `celery beat` does, and says how long to wait.
            time.sleep(min(max(scheduler.tick(), 0.05), 0.5))
    finally:
        PeriodicTask.objects.filter(name="tiny benchmark").update(enabled=False)
        scheduler.close()
    run = ExperimentRun.objects.order_by("created").first()
    assert run is not None, f"the scheduled task never created a run\n{worker.output()}"
    assert run.kind == "benchmark" and run.params["families"] == ["logreg"] and run.params["limit"] == 300
    run = finished(run.id, worker)  # the same worker then runs it
    assert run.status == "done", run.error + run.log
