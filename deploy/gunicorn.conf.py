"""gunicorn's settings for DigitScan's site (``gunicorn -c deploy/gunicorn.conf.py web.wsgi``).

Used by ``deploy/start.sh`` and by the ``web`` service of ``docker-compose.yml`` (behind nginx there).

- Threaded workers (``gthread``): a slow client holds one thread, not a whole worker, and the worker keeps
  telling the arbiter it is alive meanwhile — sync workers were killed by WORKER TIMEOUT under three
  clients sending a byte a second. nginx in front buffers slow clients entirely at scale.
- A body announced over ``DIGITSCAN_MAX_REQUEST_BYTES`` is never read: Django refuses it from its
  headers (``web.http_errors.BodyLimitMiddleware``), and :func:`pre_request` here keeps gunicorn from
  inviting it (no ``100 Continue``) and from draining it off the socket to reuse the connection.

Every value may be overridden on the command line or through ``GUNICORN_CMD_ARGS``.
"""

from __future__ import annotations

import os

from web.uploads import limits

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A request that takes longer than this (a body trickling in, a stuck query) frees its worker.
timeout = 60
graceful_timeout = 20
keepalive = 5
# Headers are small; a client that sends huge ones is refused by gunicorn itself.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
# Timestamped, like every other log line of the system.
access_log_format = '%(t)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms'

MAX_REQUEST_BYTES = int(os.environ.get("DIGITSCAN_MAX_REQUEST_BYTES") or limits.MAX_REQUEST_BYTES)


def pre_request(worker, req) -> None:
    """A body over the limit: no ``100 Continue`` for it, and the connection closes after the 413."""
    length = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), "")
    if length.isdigit() and int(length) > MAX_REQUEST_BYTES:
        req.headers = [(name, value) for name, value in req.headers if name != "EXPECT"]
        req.must_close = True
    worker.log.debug("%s %s", req.method, req.path)
