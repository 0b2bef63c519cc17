"""DigitScan's Celery workers: the tasks, thin wrappers that take an id, call ml, and record the outcome
through web's services. ``celery -A worker worker`` finds the app here; its tasks module is imported
when a worker or beat starts (after Django is set up), never by the site.
"""

from web.celery import app

app.conf.include = ["worker.tasks"]

__all__ = ["app"]
