"""The Celery app, wired explicitly (DESIGN.md): settings come from Django's ``CELERY_*`` settings.

Run an inference worker with::

    celery -A worker worker -Q inference --concurrency 2
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

app = Celery("digitscan", include=["worker.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
# Declared here, not in settings: the queue names are part of the code's contract with deploy/.
app.conf.task_queues = (Queue("inference"), Queue("training"))
