"""The Celery app, wired explicitly (DESIGN.md): settings come from Django's ``CELERY_*`` settings.

It lives with the site because the site is what sends to it: uploads and runs are enqueued **by task
name** (:func:`enqueue`), so the web process never imports a task, nor ml's torch side. The worker
package (``celery -A worker worker``) registers the tasks on this app; this module imports nothing of
web's or the worker's.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

app = Celery("digitscan")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Declared here, not in settings: the queue names are part of the code's contract with deploy/.
app.conf.task_queues = (Queue("inference"), Queue("training"))

# The tasks the site sends, by the names worker/tasks.py registers them under (CELERY_TASK_ROUTES in
# settings picks each one's queue by the same name).
RECOGNIZE = "worker.tasks.recognize"
TRAIN_MODEL = "worker.tasks.train_model"
RUN_BENCHMARK = "worker.tasks.run_benchmark"
RUN_ABLATION = "worker.tasks.run_ablation"


def enqueue(name: str, *args) -> None:
    """Send task ``name`` with ``args`` to its queue (raises if the broker cannot be reached)."""
    app.send_task(name, args=list(args))
