"""DigitScan's Celery app and its tasks: thin wrappers that take an id, call ml, record the outcome."""

from worker.celery import app

__all__ = ["app"]
